import { create, toJson } from "@bufbuild/protobuf";
import { TimestampSchema } from "@bufbuild/protobuf/wkt";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { timestampJson } from "../../src/rest/timestamp-json.js";

/** reflective is what the writer did before: protobuf-es's toJson, stringified, or its error. */
function reflective(seconds: bigint, nanos: number): string {
  try {
    return JSON.stringify(toJson(TimestampSchema, create(TimestampSchema, { seconds, nanos })));
  } catch (e) {
    return `throws: ${(e as Error).message}`;
  }
}

function compiled(seconds: bigint, nanos: number): string {
  try {
    return timestampJson(create(TimestampSchema, { seconds, nanos }));
  } catch (e) {
    return `throws: ${(e as Error).message}`;
  }
}

const first = -62_135_596_800n; // 0001-01-01T00:00:00Z
const last = 253_402_300_799n; // 9999-12-31T23:59:59Z

describe("timestampJson", () => {
  it("writes what JSON.stringify(toJson(…)) writes, or throws its error, for any seconds and nanos", () => {
    const seconds = fc.oneof(
      fc.bigInt({ min: first, max: last }),
      fc.constantFrom(first, last, first - 1n, last + 1n, 0n, -1n, 2n ** 62n, -(2n ** 62n)),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
    );
    const nanos = fc.oneof(
      fc.constantFrom(0, 1, 999_999_999, 1_000_000_000, -1, 500_000_000, 120_000, 7_000_000),
      fc.integer({ min: 0, max: 999 }).map((n) => n * 1_000_000), // milliseconds
      fc.integer({ min: 0, max: 999_999 }).map((n) => n * 1_000), // microseconds
      fc.integer({ min: 0, max: 999_999_999 }),
      fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    );
    fc.assert(
      fc.property(seconds, nanos, (s, n) => {
        expect(compiled(s, n)).toBe(reflective(s, n));
      }),
      { seed: 11, numRuns: 3000 },
    );
  });

  it("writes the fewest fraction digits that hold the nanoseconds", () => {
    expect(compiled(0n, 0)).toBe('"1970-01-01T00:00:00Z"');
    expect(compiled(0n, 5_000_000)).toBe('"1970-01-01T00:00:00.005Z"');
    expect(compiled(0n, 5_000)).toBe('"1970-01-01T00:00:00.000005Z"');
    expect(compiled(0n, 5)).toBe('"1970-01-01T00:00:00.000000005Z"');
    expect(compiled(last, 999_999_999)).toBe('"9999-12-31T23:59:59.999999999Z"');
    expect(compiled(first, 0)).toBe('"0001-01-01T00:00:00Z"');
    expect(compiled(last + 1n, 0)).toMatch(/^throws: .*must be from 0001-01-01T00:00:00Z/);
  });
});
