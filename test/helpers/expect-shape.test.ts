import { describe, expect, it } from "vitest";
import { shapeMismatches } from "./expect-shape.js";

// The seed-shape checker is what the e2e walks rely on; it must be able to fail.

describe("shapeMismatches", () => {
  const example = { a: "x", b: null, c: { d: 1 }, e: [{ f: true }] };

  it("accepts the same shape with other values", () => {
    expect(
      shapeMismatches({ a: "y", b: null, c: { d: 2 }, e: [{ f: false }, { f: true }] }, example),
    ).toEqual([]);
  });

  it("reports a missing key, an extra key, a wrong type and a non-null", () => {
    expect(shapeMismatches({ a: 1, b: "v", c: {}, e: [{ f: true, g: 1 }], h: 0 }, example)).toEqual(
      [
        "a: expected string, got number",
        "b: expected null, got string",
        "c.d: missing",
        "e[].g: not in the documented example",
        "h: not in the documented example",
      ],
    );
  });

  it("allows the contract's additive fields at their paths only", () => {
    const list = { keys: [{ key_id: "k" }], truncated: false };
    const answer = {
      keys: [{ key_id: "k", status: "Active", usage: "ENCRYPT_DECRYPT" }],
      truncated: false,
      success: true,
      message: "ok",
    };
    expect(shapeMismatches(answer, list)).toEqual([]);
    expect(shapeMismatches({ ...answer, keys: [{ key_id: "k", algo: "x" }] }, list)).toEqual([
      "keys[].algo: not in the documented example",
    ]);
    // A documented field is still checked, additive names or not.
    expect(shapeMismatches({ status: 1 }, { status: "Running" })).toEqual([
      "status: expected string, got number",
    ]);
  });

  it("allows extra keys only where told", () => {
    expect(shapeMismatches({ ...example, h: 0, c: { d: 1, z: 2 } }, example, ["h", "c.z"])).toEqual(
      [],
    );
  });
});
