import {
  create,
  type DescField,
  type DescMessage,
  type JsonObject,
  type JsonValue,
  type Message,
  ScalarType,
} from "@bufbuild/protobuf";

/**
 * CompiledJsonReader builds a request message from parsed JSON, or returns
 * undefined to leave the object to protobuf-es `fromJson`.
 */
export type CompiledJsonReader = (json: JsonObject) => Message | undefined;

/** BAIL is what a field reader returns for a value it leaves to fromJson. */
const BAIL: unique symbol = Symbol("bail");

/** FieldReader turns one JSON value into the field's value, or BAIL. */
type FieldReader = (value: JsonValue) => unknown;

/** bail is the reader of a field left to fromJson whatever its value. */
const bail: FieldReader = () => BAIL;

/** FieldPlan is one field as the compiled reader sets it. */
interface FieldPlan {
  field: DescField;
  read: FieldReader;
  /** A map field: the reader gives its entries, copied into the message's own object. */
  map: boolean;
  /** A repeated field: the reader gives its items, added to the message's own array. */
  list: boolean;
}

/** CompiledJsonReaderOptions are the fromJson options the reader agrees with. */
export interface CompiledJsonReaderOptions {
  /**
   * Skip keys that name no field, as fromJson's option of that name (connect's JSON and
   * the AWS JSON API); without it an unknown key is left to fromJson, which refuses it.
   */
  ignoreUnknownFields?: boolean;
}

const INT32_MIN = -0x8000_0000;
const INT32_MAX = 0x7fff_ffff;
const UINT32_MAX = 0xffff_ffff;
/** A surrogate code unit: a string with one may not be well-formed UTF-16, which fromJson checks. */
const SURROGATE = /[\uD800-\uDFFF]/;
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * compileRestJsonReader compiles, once per message type and option (later calls return
 * the same reader), a reader for the JSON shapes
 * clients send on the hot path: strings, booleans, 32-bit integers given as JSON
 * numbers, enums by name, standard padded base64 bytes, `repeated string` and
 * `map<string, string>`. REST calls it as is (fromJson's default: unknown keys refused);
 * connect's JSON and the AWS JSON API with `ignoreUnknownFields`, as they call fromJson.
 * It is a fast path in front of `fromJson`, never a second definition of protobuf JSON:
 * for any key or value outside those shapes (an unknown key unless ignored, a repeated
 * key, null, a nested message, a list of anything but strings, a 64-bit integer, a float,
 * an integer as a string, URL-safe or unpadded base64, a string with a surrogate code
 * unit, …) it returns undefined and the caller runs
 * `fromJson`, whose answer — message or error message — is therefore unchanged. Where it
 * does answer, the message is the one `fromJson` gives (checked by a property test over
 * every request type of the service). Well-known types are always left to fromJson.
 */
export function compileRestJsonReader(
  desc: DescMessage,
  options: CompiledJsonReaderOptions = {},
): CompiledJsonReader {
  const ignoreUnknownFields = options.ignoreUnknownFields === true;
  const cache = compiledReaders[ignoreUnknownFields ? 1 : 0] as WeakMap<
    DescMessage,
    CompiledJsonReader
  >;
  let reader = cache.get(desc);
  if (reader === undefined) {
    reader = compileReader(desc, ignoreUnknownFields);
    cache.set(desc, reader);
  }
  return reader;
}

/** Readers compiled so far, per descriptor: [unknown keys refused, unknown keys ignored]. */
const compiledReaders = [
  new WeakMap<DescMessage, CompiledJsonReader>(),
  new WeakMap<DescMessage, CompiledJsonReader>(),
];

function compileReader(desc: DescMessage, ignoreUnknownFields: boolean): CompiledJsonReader {
  if (desc.typeName.startsWith("google.protobuf.")) return () => undefined;
  const plans = new Map<string, FieldPlan>();
  for (const field of desc.fields) {
    // A field the fast path does not read still claims its names, in fromJson's order
    // (a later field's name wins), so a key always means the field fromJson would read.
    const read = fieldReader(field) ?? bail;
    const plan: FieldPlan = {
      field,
      read,
      map: field.fieldKind === "map",
      list: field.fieldKind === "list",
    };
    plans.set(field.name, plan);
    plans.set(field.jsonName, plan);
  }
  return (json) => {
    const message = create(desc) as unknown as Record<string, unknown>;
    // fromJson refuses one field given twice (by both of its names): leave that to it.
    const seen: DescField[] = [];
    for (const key in json) {
      if (!Object.hasOwn(json, key)) continue;
      const plan = plans.get(key);
      if (plan === undefined) {
        // fromJson skips an unknown key when told to (only `[…]` extension keys differ, and
        // they need a registry, which these callers never give it).
        if (ignoreUnknownFields) continue;
        return undefined;
      }
      if (seen.includes(plan.field)) return undefined;
      const value = plan.read(json[key] as JsonValue);
      if (value === BAIL) return undefined;
      seen.push(plan.field);
      if (plan.map) {
        const entries = message[plan.field.localName] as Record<string, unknown>;
        for (const [k, v] of value as Array<[string, string]>) entries[k] = v;
      } else if (plan.list) {
        // One push per item: a spread of a long list would overflow the stack.
        const items = message[plan.field.localName] as unknown[];
        for (const item of value as unknown[]) items.push(item);
      } else {
        message[plan.field.localName] = value;
      }
    }
    return message as unknown as Message;
  };
}

/** fieldReader returns the reader of a field the fast path handles, or undefined. */
function fieldReader(field: DescField): FieldReader | undefined {
  switch (field.fieldKind) {
    case "scalar":
      // A member of a real oneof is left to fromJson, which checks the oneof is set once.
      return field.oneof === undefined ? scalarReader(field.scalar) : undefined;
    case "enum": {
      if (field.oneof !== undefined) return undefined;
      const numbers = new Map(field.enum.values.map((v) => [v.name, v.number]));
      return (value) => (typeof value === "string" ? (numbers.get(value) ?? BAIL) : BAIL);
    }
    case "list":
      return field.listKind === "scalar" && field.scalar === ScalarType.STRING
        ? readStringList
        : undefined;
    case "map":
      return field.mapKey === ScalarType.STRING &&
        field.mapKind === "scalar" &&
        field.scalar === ScalarType.STRING
        ? readStringMap
        : undefined;
    default:
      return undefined;
  }
}

/** scalarReader returns the reader of a singular scalar the fast path handles, or undefined. */
function scalarReader(scalar: ScalarType): FieldReader | undefined {
  switch (scalar) {
    case ScalarType.STRING:
      return (value) => (typeof value === "string" && !SURROGATE.test(value) ? value : BAIL);
    case ScalarType.BOOL:
      return (value) => (typeof value === "boolean" ? value : BAIL);
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return (value) =>
        typeof value === "number" &&
        Number.isInteger(value) &&
        value >= INT32_MIN &&
        value <= INT32_MAX
          ? value
          : BAIL;
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return (value) =>
        typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= UINT32_MAX
          ? value
          : BAIL;
    case ScalarType.BYTES:
      return readBase64;
    default:
      return undefined;
  }
}

/** readBase64 decodes standard, padded base64 into a Uint8Array of its own, as fromJson does. */
function readBase64(value: JsonValue): unknown {
  if (typeof value !== "string" || value === "" || !STRICT_BASE64.test(value)) return BAIL;
  const bytes = Buffer.from(value, "base64");
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength).slice();
}

/** readStringMap reads a JSON object of strings as `map<string, string>` entries. */
function readStringMap(value: JsonValue): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return BAIL;
  const entries: Array<[string, string]> = [];
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const item = value[key];
    if (key === "__proto__" || SURROGATE.test(key)) return BAIL;
    if (typeof item !== "string" || SURROGATE.test(item)) return BAIL;
    entries.push([key, item]);
  }
  return entries;
}

/** readStringList reads a JSON array of strings as `repeated string` items. */
function readStringList(value: JsonValue): unknown {
  if (!Array.isArray(value)) return BAIL;
  for (const item of value) {
    if (typeof item !== "string" || SURROGATE.test(item)) return BAIL;
  }
  return value;
}
