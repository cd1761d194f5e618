import type { DescField, DescMessage, JsonValue } from "@bufbuild/protobuf";
import { ScalarType } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { isJsonObject } from "./is-json-object.js";
import { quote } from "./quote.js";

/**
 * Decimal integers as JSON writes them: no sign but `-`, no leading zeros, no
 * `-0`, no exponent, fraction, hex, or white space. protobuf-es `fromJson`
 * takes anything `Number()` takes (`"0x7"`, `"7e0"`, `"0b111"`), which is
 * looser than our contract: integers are JSON numbers or decimal strings.
 */
const DECIMAL_INTEGER = /^(0|-?[1-9][0-9]*)$/;

/** isDecimalInteger tells whether a string is a plain decimal integer, as JSON writes one. */
export function isDecimalInteger(text: string): boolean {
  return DECIMAL_INTEGER.test(text);
}

/**
 * FORBIDDEN_MAP_KEY is the one map key protobuf-es cannot hold: its map fields
 * are plain objects, and `obj["__proto__"] = value` sets the prototype instead
 * of adding an entry, so the entry would silently vanish (and an encryption
 * context would lose a binding). Every protocol refuses it the same way, so a
 * blob made over one protocol decrypts over any other.
 */
export const FORBIDDEN_MAP_KEY = "__proto__";

/**
 * checkRequestJson checks a request's protobuf JSON, before `fromJson` reads
 * it, for what `fromJson` would accept but lose or read too loosely: a map key
 * `__proto__` anywhere in the message (refused, never dropped), and an
 * integer field given as a string that is not a plain decimal integer. It
 * walks only the fields the descriptor knows (unknown keys are left to
 * `fromJson`'s own policy) and skips well-known types, whose JSON forms are
 * their own. Throws a ConnectError with Code.InvalidArgument naming the field.
 */
export function checkRequestJson(desc: DescMessage, json: JsonValue): void {
  checkMessage(desc, json, "");
}

function checkMessage(desc: DescMessage, json: JsonValue, prefix: string): void {
  if (!isJsonObject(json) || desc.typeName.startsWith("google.protobuf.")) {
    return; // fromJson reports a wrong type; well-known types are not ours to judge
  }
  for (const [key, value] of Object.entries(json)) {
    const field = desc.fields.find((f) => f.name === key || f.jsonName === key);
    if (field === undefined || value === null) {
      continue;
    }
    const path = `${prefix}${field.name}`;
    switch (field.fieldKind) {
      case "message":
        checkMessage(field.message, value, `${path}.`);
        break;
      case "list":
        if (Array.isArray(value)) {
          for (const item of value) {
            checkValue(field, item, path);
          }
        }
        break;
      case "map":
        if (isJsonObject(value)) {
          for (const [mapKey, item] of Object.entries(value)) {
            if (mapKey === FORBIDDEN_MAP_KEY) {
              throw forbiddenMapKey(path);
            }
            checkValue(field, item, `${path}[${JSON.stringify(mapKey)}]`);
          }
        }
        break;
      default:
        checkValue(field, value, path);
        break;
    }
  }
}

/** checkValue checks one singular value, list item or map value of `field`. */
function checkValue(field: DescField, value: JsonValue, path: string): void {
  if (field.message !== undefined) {
    checkMessage(field.message, value, `${path}.`);
    return;
  }
  if (typeof value === "string" && field.scalar !== undefined && isIntegerScalar(field.scalar)) {
    if (!DECIMAL_INTEGER.test(value)) {
      throw new ConnectError(
        `invalid value for field ${quote(path)}: expected an integer (a JSON number or a decimal string)`,
        Code.InvalidArgument,
      );
    }
  }
}

/** forbiddenMapKey is the error for a `__proto__` map key in the field at `path`. */
export function forbiddenMapKey(path: string): ConnectError {
  return new ConnectError(
    `invalid value for field ${quote(path)}: map key "${FORBIDDEN_MAP_KEY}" is not allowed`,
    Code.InvalidArgument,
  );
}

/**
 * isIntegerScalar tells whether a scalar is one of the ten integer types, whose JSON
 * strings must be plain decimals (see isDecimalInteger).
 */
export function isIntegerScalar(scalar: ScalarType): boolean {
  switch (scalar) {
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return true;
    default:
      return false;
  }
}
