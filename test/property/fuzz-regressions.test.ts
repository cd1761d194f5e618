import { describe, expect, it } from "vitest";
import { parseAmzDate } from "../../src/auth/parse-sigv4-auth.js";

// The shrunk counterexamples the property tests of this folder found, kept as plain unit
// tests so each defect stays fixed whatever seed the properties run with.

describe("found by fuzzing: parseAmzDate", () => {
  it("reads years 0000-0099 as themselves, not as 1900-1999", () => {
    // Counterexample "00000206T000000Z": Date.UTC maps years 0-99 to 1900-1999.
    const expected = new Date(0);
    expected.setUTCFullYear(0, 1, 6);
    expect(parseAmzDate("00000206T000000Z")).toBe(expected.getTime());
    expected.setUTCFullYear(99, 11, 31);
    expected.setUTCHours(23, 59, 59, 0);
    expect(parseAmzDate("00991231T235959Z")).toBe(expected.getTime());
    expect(parseAmzDate("00240918T071042Z")).not.toBe(Date.UTC(1924, 8, 18, 7, 10, 42));
  });
});
