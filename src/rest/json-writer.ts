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
import type { Timestamp } from "@bufbuild/protobuf/wkt";
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

function isJsonObject(json: JsonValue | undefined): json is JsonObject {
  return typeof json === "object" && json !== null && !Array.isArray(json);
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
    return names.get(value) ?? `${value}`;
  };
}

function scalarWriter(scalar: ScalarType, field: DescField): ValueWriter {
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
