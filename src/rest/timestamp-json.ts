import type { Timestamp } from "@bufbuild/protobuf/wkt";

/** The range protobuf JSON allows a Timestamp, in milliseconds since the epoch. */
const minMs = Date.parse("0001-01-01T00:00:00Z");
const maxMs = Date.parse("9999-12-31T23:59:59Z");

/**
 * timestampJson writes a google.protobuf.Timestamp as its protobuf JSON string, quoted,
 * exactly as `JSON.stringify(toJson(TimestampSchema, value))` does — same text, same range
 * checks, same error messages — without protobuf-es's per-call cost (it parses both range
 * bounds from strings on every call), which was most of a 100-key list page's encoding.
 * The fraction has 0, 3, 6 or 9 digits, the fewest that hold the nanoseconds.
 */
export function timestampJson(value: Timestamp): string {
  const ms = Number(value.seconds) * 1000;
  if (ms < minMs || ms > maxMs) {
    throw new Error(
      `cannot encode message ${value.$typeName} to JSON: must be from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z inclusive`,
    );
  }
  const nanos = value.nanos;
  if (nanos < 0) {
    throw new Error(`cannot encode message ${value.$typeName} to JSON: nanos must not be negative`);
  }
  if (nanos > 999_999_999) {
    throw new Error(
      `cannot encode message ${value.$typeName} to JSON: nanos must not be greater than 99999999`,
    );
  }
  // Whole seconds in range: toISOString ends in ".000Z", and no character needs escaping.
  const iso = new Date(ms).toISOString();
  return `"${iso.slice(0, -5)}${fractionOf(nanos)}Z"`;
}

function fractionOf(nanos: number): string {
  if (nanos === 0) return "";
  const digits = String(nanos + 1_000_000_000).slice(1);
  if (nanos % 1_000_000 === 0) return `.${digits.slice(0, 3)}`;
  if (nanos % 1_000 === 0) return `.${digits.slice(0, 6)}`;
  return `.${digits}`;
}
