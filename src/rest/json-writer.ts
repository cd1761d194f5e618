import type {
  DescEnum,
  DescField,
  DescMessage,
  JsonObject,
  JsonValue,
  Message,
  MessageShape,
} from "@bufbuild/protobuf";
import { ScalarType, toJson } from "@bufbuild/protobuf";
import { isWrapperDesc, type Timestamp } from "@bufbuild/protobuf/wkt";
import { isJsonObject } from "./is-json-object.js";
import { timestampJson } from "./timestamp-json.js";

/**
 * writeRestJson serializes a response message the way the documented REST API
 * shows it. It starts from protobuf JSON with proto field names (snake_case)
 * and every implicit-presence field emitted (`false`, `0`, `""`, `[]`, `{}`),
 * then walks the descriptor — into nested messages, list items and map values
 * — and applies two rules:
 *
 * 1. **Explicit nulls.** A field with explicit presence (`optional` scalars,
 *    message fields) that is unset and is not a member of a real `oneof` is
 *    written as `null` instead of being omitted, because the seed's examples
 *    show `"next_marker": null`, `"deletion_date": null`, `"namespace": null`,
 *    `"config_summary": null`. Members of a real oneof that are not set stay
 *    absent: at most one of them exists.
 * 2. **Flattened unions.** A message whose fields all belong to one real
 *    `oneof` and are all message-typed (e.g. `BackendSummary { oneof summary {
 *    LocalBackendSummary local; VaultBackendSummary vault; } }`) is written as
 *    the object of its set member alone — `{"backend_type": "local", …}`
 *    rather than `{"local": {"backend_type": "local", …}}` — or `null` when no
 *    member is set.
 *
 * Well-known types (`google.protobuf.*`, e.g. Timestamp as an RFC 3339
 * string) keep their protobuf JSON form. Bytes are standard base64 with
 * padding, as protobuf JSON writes them.
 */
export function writeRestJson<Desc extends DescMessage>(
  schema: Desc,
  message: MessageShape<Desc>,
): JsonValue {
  const json = toJson(schema, message, { useProtoFieldName: true, alwaysEmitImplicit: true });
  return patchMessage(schema, json);
}

function patchMessage(desc: DescMessage, json: JsonValue): JsonValue {
  if (desc.typeName.startsWith("google.protobuf.") || !isJsonObject(json)) {
    return json;
  }
  if (isUnion(desc)) {
    for (const field of desc.fields) {
      const value = json[field.name];
      if (value !== undefined && field.message !== undefined) {
        return patchMessage(field.message, value);
      }
    }
    return null;
  }
  // Rebuilt in declaration order, so the added nulls sit where the seed shows
  // them rather than at the end.
  const out: JsonObject = {};
  for (const field of desc.fields) {
    const key = field.name;
    const value = json[key];
    if (value === undefined) {
      // With alwaysEmitImplicit, toJson omits only unset fields with explicit
      // presence, and unset members of a oneof.
      if (field.oneof === undefined) {
        out[key] = null;
      }
      continue;
    }
    switch (field.fieldKind) {
      case "message":
        out[key] = patchMessage(field.message, value);
        break;
      case "list":
        out[key] =
          field.listKind === "message" && Array.isArray(value)
            ? value.map((item) => patchMessage(field.message, item))
            : value;
        break;
      case "map":
        if (field.mapKind === "message" && isJsonObject(value)) {
          for (const [k, v] of Object.entries(value)) {
            value[k] = patchMessage(field.message, v);
          }
        }
        out[key] = value;
        break;
      default:
        out[key] = value;
        break;
    }
  }
  return out;
}

const unionCache = new WeakMap<DescMessage, boolean>();

/** isUnion tells a message that is nothing but one oneof of messages. */
function isUnion(desc: DescMessage): boolean {
  let union = unionCache.get(desc);
  if (union === undefined) {
    const oneof = desc.fields[0]?.oneof;
    union =
      oneof !== undefined &&
      desc.fields.every((f) => f.oneof === oneof && f.fieldKind === "message");
    unionCache.set(desc, union);
  }
  return union;
}

/** RestJsonWriter writes one message of its type as the JSON text of writeRestJson. */
export type RestJsonWriter = (message: Message) => string;

const compiledWriters = new WeakMap<DescMessage, RestJsonWriter>();

/**
 * compileRestJsonWriter returns a writer for one message type that produces exactly
 * `JSON.stringify(writeRestJson(schema, message))`, compiled once from the descriptor:
 * a list of per-field writers chosen by field kind, so a response costs no reflection,
 * no intermediate JSON tree and no second walk to patch it. The same rules hold
 * (proto field names, declaration order, implicit fields always written, explicit nulls,
 * flattened unions, well-known types in their protobuf JSON form), and a field holding a
 * value of the wrong type throws, as toJson does. Writers are cached per descriptor.
 */
export function compileRestJsonWriter(schema: DescMessage): RestJsonWriter {
  let writer = compiledWriters.get(schema);
  if (writer === undefined) {
    // Registered before the fields are compiled, so a recursive message finds itself.
    let compiled: RestJsonWriter | undefined;
    writer = (message) => (compiled as RestJsonWriter)(message);
    compiledWriters.set(schema, writer);
    compiled = compileMessage(schema);
  }
  return writer;
}

type ValueWriter = (value: unknown) => string;

function compileMessage(desc: DescMessage): RestJsonWriter {
  if (desc.typeName === "google.protobuf.Timestamp") {
    return (message) => timestampJson(message as Timestamp);
  }
  if (desc.typeName.startsWith("google.protobuf.")) {
    return (message) => JSON.stringify(toJson(desc, message));
  }
  if (isUnion(desc)) {
    const oneof = desc.fields[0]?.oneof;
    const members = new Map(
      desc.fields.map((f) => [f.localName, compileRestJsonWriter(f.message as DescMessage)]),
    );
    const name = oneof?.localName ?? "";
    return (message) => {
      const selected = (message as unknown as Record<string, { case?: string; value?: unknown }>)[
        name
      ];
      const write = selected?.case === undefined ? undefined : members.get(selected.case);
      return write === undefined ? "null" : write(selected?.value as Message);
    };
  }
  const parts = desc.fields.map((field) => compileField(field));
  return (message) => {
    let out = "{";
    for (let i = 0; i < parts.length; i++) {
      const part = (parts[i] as (m: Message) => string | undefined)(message);
      if (part !== undefined) out += out.length === 1 ? part : `,${part}`;
    }
    return `${out}}`;
  };
}

/** compileField returns the writer of one field's `"name":value`, or undefined to leave it out. */
function compileField(field: DescField): (message: Message) => string | undefined {
  const key = `${JSON.stringify(field.name)}:`;
  const localName = field.localName;
  const write = compileValue(field);
  const oneof = field.oneof;
  if (oneof !== undefined) {
    // A member of a real oneof is written only when it is the one set.
    const group = oneof.localName;
    return (message) => {
      const selected = (message as unknown as Record<string, { case?: string; value?: unknown }>)[
        group
      ];
      return selected?.case === localName ? key + write(selected.value) : undefined;
    };
  }
  return (message) => {
    const value = (message as unknown as Record<string, unknown>)[localName];
    // Unset explicit-presence fields (optional scalars, messages) are written as null.
    return value === undefined ? `${key}null` : key + write(value);
  };
}

function compileValue(field: DescField): ValueWriter {
  switch (field.fieldKind) {
    case "scalar":
      return scalarWriter(field.scalar, field);
    case "enum":
      return enumWriter(field.enum);
    case "message":
      return messageWriter(field.message);
    case "list": {
      const item =
        field.listKind === "scalar"
          ? scalarWriter(field.scalar, field)
          : field.listKind === "enum"
            ? enumWriter(field.enum)
            : messageWriter(field.message);
      return (value) => {
        if (!Array.isArray(value)) throw wrongType(field);
        let out = "[";
        for (let i = 0; i < value.length; i++) out += (i === 0 ? "" : ",") + item(value[i]);
        return `${out}]`;
      };
    }
    case "map": {
      const item =
        field.mapKind === "scalar"
          ? scalarWriter(field.scalar, field)
          : field.mapKind === "enum"
            ? enumWriter(field.enum)
            : messageWriter(field.message);
      return (value) => {
        if (typeof value !== "object" || value === null) throw wrongType(field);
        let out = "{";
        for (const k of Object.keys(value)) {
          out += `${out.length === 1 ? "" : ","}${JSON.stringify(k)}:${item((value as Record<string, unknown>)[k])}`;
        }
        return `${out}}`;
      };
    }
  }
}

function messageWriter(desc: DescMessage): ValueWriter {
  const write = compileRestJsonWriter(desc);
  return (value) => {
    if (typeof value !== "object" || value === null) throw new Error(`expected ${desc.typeName}`);
    return write(value as Message);
  };
}

function enumWriter(desc: DescEnum): ValueWriter {
  if (desc.typeName === "google.protobuf.NullValue") return () => "null";
  const names = new Map(desc.values.map((v) => [v.number, JSON.stringify(v.name)]));
  return (value) => {
    if (typeof value !== "number") throw new Error(`expected a number for ${desc.typeName}`);
    // A number no value names is written as the number, as toJson does (NaN as null).
    return names.get(value) ?? JSON.stringify(value);
  };
}

/**
 * scalarWriter writes one scalar value. `refuseLongStrings` makes a 64-bit integer held
 * as a string throw when the field is `jstype = JS_STRING` (longAsString): toJson parses
 * such a string (`"007"` is written `"7"`), which the proto writer leaves to it.
 */
function scalarWriter(
  scalar: ScalarType,
  field: DescField,
  refuseLongStrings = false,
): ValueWriter {
  switch (scalar) {
    case ScalarType.STRING:
      return (v) => {
        if (typeof v !== "string") throw wrongType(field);
        return JSON.stringify(v);
      };
    case ScalarType.BOOL:
      return (v) => {
        if (typeof v !== "boolean") throw wrongType(field);
        return v ? "true" : "false";
      };
    case ScalarType.BYTES:
      return (v) => {
        if (!(v instanceof Uint8Array)) throw wrongType(field);
        return `"${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64")}"`;
      };
    case ScalarType.FLOAT:
    case ScalarType.DOUBLE:
      return (v) => {
        if (typeof v !== "number") throw wrongType(field);
        if (Number.isNaN(v)) return '"NaN"';
        if (v === Number.POSITIVE_INFINITY) return '"Infinity"';
        if (v === Number.NEGATIVE_INFINITY) return '"-Infinity"';
        return JSON.stringify(v);
      };
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.SINT64:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return (v) => {
        if (
          typeof v !== "bigint" &&
          typeof v !== "string" &&
          !(typeof v === "number" && Number.isInteger(v))
        ) {
          throw wrongType(field);
        }
        if (
          refuseLongStrings &&
          typeof v === "string" &&
          "longAsString" in field &&
          field.longAsString
        ) {
          throw wrongType(field);
        }
        return JSON.stringify(String(v));
      };
    default:
      // The 32-bit integers: JSON numbers.
      return (v) => {
        if (typeof v !== "number") throw wrongType(field);
        return JSON.stringify(v);
      };
  }
}

function wrongType(field: DescField): Error {
  return new Error(`cannot encode field ${field.parent.typeName}.${field.name} to JSON`);
}

/** ProtoJsonWriteOptions are the toJson options a compiled proto JSON writer reproduces. */
export interface ProtoJsonWriteOptions {
  /** Proto field names (snake_case) instead of JSON names, as toJson's option of that name. */
  useProtoFieldName?: boolean;
}

/**
 * ProtoJsonWriter writes one message as the text of `JSON.stringify(toJson(schema, message,
 * options))`, or returns undefined to leave the message to that reflective path.
 */
export type ProtoJsonWriter = (message: Message) => string | undefined;

/** A field's presence, as protobuf-es numbers it (FeatureSet.FieldPresence). */
const IMPLICIT = 2;
const LEGACY_REQUIRED = 3;

/** Proto writers per descriptor: [JSON names, proto field names]. */
const protoWriters = [
  new WeakMap<DescMessage, ValueWriter>(),
  new WeakMap<DescMessage, ValueWriter>(),
];

/**
 * compileProtoJsonWriter compiles, once per message type, a writer of canonical protobuf
 * JSON — exactly the text of `JSON.stringify(toJson(schema, message, options))`, the
 * answer connect's JSON serializer and the AWS JSON adapter write — without reflection
 * or an intermediate JSON tree: fields in field-number order under their JSON names
 * (`json_name`, or lowerCamelCase; proto names with useProtoFieldName), implicit-presence
 * fields left out at their zero value, unset explicit-presence fields and empty lists and
 * maps left out, enums by name (an unknown number as the number), bytes as padded base64,
 * 64-bit integers as strings, well-known types as toJson writes them.
 *
 * It is a fast path in front of toJson, never a second definition of protobuf JSON: a
 * value of the wrong type, a shape it does not compile (maps with non-string keys,
 * wrapper and Struct fields, 64-bit integers held as strings in a `jstype = JS_STRING`
 * field, a proto2 required field left unset, a JSON name JavaScript would reorder) makes
 * it return undefined, and the caller runs the reflective path, whose answer — text or
 * error — is therefore unchanged. A property test checks it over every message of both
 * services and a synthetic message with every field kind.
 */
export function compileProtoJsonWriter(
  schema: DescMessage,
  options: ProtoJsonWriteOptions = {},
): ProtoJsonWriter {
  const write = protoMessageWriter(schema, options.useProtoFieldName === true);
  return (message) => {
    try {
      return write(message);
    } catch {
      return undefined;
    }
  };
}

/** protoMessageWriter returns the (cached) writer of one message type; it throws on what it leaves to toJson. */
function protoMessageWriter(desc: DescMessage, protoNames: boolean): ValueWriter {
  const cache = protoWriters[protoNames ? 1 : 0] as WeakMap<DescMessage, ValueWriter>;
  let writer = cache.get(desc);
  if (writer === undefined) {
    // Registered before the fields are compiled, so a recursive message finds itself.
    let compiled: ValueWriter | undefined;
    writer = (value) => (compiled as ValueWriter)(value);
    cache.set(desc, writer);
    compiled = compileProtoMessage(desc, protoNames);
  }
  return writer;
}

/** refuse is the writer of a shape left to toJson: it always throws. */
const refuse: ValueWriter = () => {
  throw new Error("left to toJson");
};

/** ARRAY_INDEX is a key JavaScript orders before the others in an object, whatever its insertion order. */
const ARRAY_INDEX = /^(?:0|[1-9][0-9]*)$/;

function compileProtoMessage(desc: DescMessage, protoNames: boolean): ValueWriter {
  const typeName = desc.typeName;
  const isOwnMessage = (value: unknown): value is Message =>
    typeof value === "object" &&
    value !== null &&
    (value as { $typeName?: unknown }).$typeName === typeName;
  if (typeName.startsWith("google.protobuf.")) {
    // Wrappers and Struct have a second, unwrapped form in a field, which toJson converts.
    if (
      isWrapperDesc(desc) ||
      typeName === "google.protobuf.Struct" ||
      typeName === "google.protobuf.Value" ||
      typeName === "google.protobuf.ListValue"
    ) {
      return refuse;
    }
    if (typeName === "google.protobuf.Timestamp") {
      return (value) => {
        if (!isOwnMessage(value)) throw new Error(`expected ${typeName}`);
        return timestampJson(value as Timestamp);
      };
    }
    const options = { useProtoFieldName: protoNames };
    return (value) => {
      if (!isOwnMessage(value)) throw new Error(`expected ${typeName}`);
      return JSON.stringify(toJson(desc, value, options));
    };
  }
  const fields = [...desc.fields].sort((a, b) => a.number - b.number);
  const keys = fields.map((f) => (protoNames ? f.name : f.jsonName));
  // toJson builds an object: JSON.stringify would put an array-index key first, and a
  // `__proto__` key would set the prototype. No real proto has either; leave them to toJson.
  if (
    new Set(keys).size !== keys.length ||
    keys.some((k) => k === "__proto__" || (ARRAY_INDEX.test(k) && Number(k) < 2 ** 32 - 1))
  ) {
    return refuse;
  }
  const parts = fields.map((field, i) =>
    compileProtoField(field, `${JSON.stringify(keys[i])}:`, protoNames),
  );
  return (value) => {
    if (!isOwnMessage(value)) throw new Error(`expected ${typeName}`);
    let out = "{";
    for (let i = 0; i < parts.length; i++) {
      const part = (parts[i] as (m: Message) => string | undefined)(value);
      if (part !== undefined) out += out.length === 1 ? part : `,${part}`;
    }
    return `${out}}`;
  };
}

/**
 * compileProtoField returns the writer of one field's `"name":value`, or undefined when
 * toJson leaves the field out, deciding presence exactly as protobuf-es's isSet does.
 */
function compileProtoField(
  field: DescField,
  key: string,
  protoNames: boolean,
): (message: Message) => string | undefined {
  const localName = field.localName;
  const oneof = field.oneof;
  if (oneof !== undefined) {
    const write = protoValueWriter(field, protoNames, true);
    const group = oneof.localName;
    return (message) => {
      const selected = (message as unknown as Record<string, unknown>)[group];
      if (typeof selected !== "object" || selected === null) throw new Error("malformed oneof");
      const { case: selectedCase, value } = selected as { case?: unknown; value?: unknown };
      return selectedCase === localName ? key + write(value) : undefined;
    };
  }
  const write = protoValueWriter(field, protoNames, false);
  switch (field.fieldKind) {
    case "list":
      return (message) => {
        const value = (message as unknown as Record<string, unknown>)[localName];
        if (!Array.isArray(value)) throw wrongType(field);
        return value.length === 0 ? undefined : key + write(value);
      };
    case "map":
      return (message) => {
        const value = (message as unknown as Record<string, unknown>)[localName];
        if (typeof value !== "object" || value === null) throw wrongType(field);
        return Object.keys(value).length === 0 ? undefined : key + write(value);
      };
  }
  if (field.presence !== IMPLICIT) {
    const required = field.presence === LEGACY_REQUIRED;
    return (message) => {
      const value = (message as unknown as Record<string, unknown>)[localName];
      if (value === undefined || !Object.hasOwn(message, localName)) {
        // toJson refuses an unset proto2 required field.
        if (required) throw wrongType(field);
        return undefined;
      }
      return key + write(value);
    };
  }
  if (field.fieldKind === "enum") {
    const zero = field.enum.values[0]?.number;
    return (message) => {
      const value = (message as unknown as Record<string, unknown>)[localName];
      return value === zero ? undefined : key + write(value);
    };
  }
  if (field.fieldKind === "scalar") {
    const scalar = field.scalar;
    return (message) => {
      const value = (message as unknown as Record<string, unknown>)[localName];
      return isScalarZero(scalar, value) ? undefined : key + write(value);
    };
  }
  // A message field never has implicit presence.
  return refuse;
}

/**
 * isScalarZero is protobuf-es's implicit-presence zero check (isScalarZeroValue, not
 * exported): -0 is not a zero double, and `0n`, `0` and `"0"` are all a zero 64-bit integer.
 */
function isScalarZero(scalar: ScalarType, value: unknown): boolean {
  switch (scalar) {
    case ScalarType.BOOL:
      return value === false;
    case ScalarType.STRING:
      return value === "";
    case ScalarType.BYTES:
      return value instanceof Uint8Array && value.byteLength === 0;
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return Object.is(value, 0);
    default:
      // biome-ignore lint/suspicious/noDoubleEquals: protobuf-es compares loosely (0n, 0, "0").
      return value == 0;
  }
}

/** protoValueWriter returns the writer of a set field's value. */
function protoValueWriter(field: DescField, protoNames: boolean, inOneof: boolean): ValueWriter {
  switch (field.fieldKind) {
    case "scalar":
      return scalarWriter(field.scalar, field, true);
    case "enum":
      return enumWriter(field.enum);
    case "message":
      // A singular wrapper outside a oneof holds the bare value, which toJson unwraps.
      return !inOneof && isWrapperDesc(field.message)
        ? refuse
        : protoMessageWriter(field.message, protoNames);
    case "list": {
      const item =
        field.listKind === "scalar"
          ? scalarWriter(field.scalar, field, true)
          : field.listKind === "enum"
            ? enumWriter(field.enum)
            : protoMessageWriter(field.message, protoNames);
      return (value) => {
        const list = value as unknown[];
        let out = "[";
        for (let i = 0; i < list.length; i++) out += (i === 0 ? "" : ",") + item(list[i]);
        return `${out}]`;
      };
    }
    case "map": {
      // toJson turns other keys (bool, integers) back into values first; left to it.
      if (field.mapKey !== ScalarType.STRING) return refuse;
      const item =
        field.mapKind === "scalar"
          ? scalarWriter(field.scalar, field)
          : field.mapKind === "enum"
            ? enumWriter(field.enum)
            : protoMessageWriter(field.message, protoNames);
      return (value) => {
        const map = value as Record<string, unknown>;
        let out = "{";
        for (const k of Object.keys(map)) {
          const written = item(map[k]);
          // toJson assigns each entry into a plain object, where `__proto__` is lost.
          if (k === "__proto__") continue;
          out += `${out.length === 1 ? "" : ","}${JSON.stringify(k)}:${written}`;
        }
        return `${out}}`;
      };
    }
  }
}
