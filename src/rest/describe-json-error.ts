import { isFieldError } from "@bufbuild/protobuf/reflect";
import { quote } from "./quote.js";

/**
 * describeJsonError turns a protobuf-es JSON error into a short message that
 * names the field: `unknown field "foo"`, `invalid value for field "limit":
 * out of range for uint32`. The offending value is never echoed (it may be a
 * secret sent in the wrong place).
 */
export function describeJsonError(e: unknown): string {
  if (!(e instanceof Error)) {
    return "invalid request";
  }
  const cause: unknown = e.cause;
  if (isFieldError(cause)) {
    return `invalid value for field ${quote(cause.field().name)}: ${cleanReason(cause.message)}`;
  }
  const unknownKey = /: key "(.*)" is unknown$/s.exec(e.message);
  if (unknownKey !== null) {
    return `unknown field ${quote(unknownKey[1] ?? "")}`;
  }
  const decode = /^cannot decode (?:message |enum )?([\w.]+) from JSON:? ?(.*)$/s.exec(e.message);
  if (decode !== null) {
    const typeName = decode[1] ?? "";
    const tail = decode[2] ?? "";
    const shortName = typeName.slice(typeName.lastIndexOf(".") + 1);
    if (
      /^(invalid RFC 3339 string|must be from .*|maximum recursion depth of \d+ reached)$/.test(
        tail,
      )
    ) {
      return `invalid value for ${shortName}: ${tail}`;
    }
    if (typeName.startsWith("google.protobuf.") || e.message.startsWith("cannot decode enum")) {
      return `invalid value for ${shortName}`;
    }
    return `invalid value for ${shortName}: expected object`;
  }
  return "invalid request";
}

/** cleanReason strips echoed values from a protobuf-es field error reason. */
function cleanReason(reason: string): string {
  const mapEntry = /^map entry ("(?:[^"\\]|\\.)*"): ([\s\S]*)$/.exec(reason);
  if (mapEntry !== null) {
    return `map entry ${mapEntry[1]}: ${cleanReason(mapEntry[2] ?? "")}`;
  }
  const range = /^expected number \((\w+)\): [\s\S]* out of range$/.exec(reason);
  if (range !== null) {
    return `out of range for ${range[1]}`;
  }
  const expected = /^expected ([^,]+?)(, got [\s\S]*)?$/.exec(reason);
  if (expected !== null) {
    const what = expected[1] === "Uint8Array" ? "base64 string" : expected[1];
    return `expected ${what}`;
  }
  if (
    /^(invalid base64 string|set multiple times|oneof set multiple times by \w+ and \w+|(list item|map value) must not be null|duplicate map key .*)$/.test(
      reason,
    )
  ) {
    return reason;
  }
  return "invalid value";
}
