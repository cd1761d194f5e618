import { describe, expect, it } from "vitest";
import { exceedsJsonDepth, maxJsonDepth } from "../../src/rest/json-depth.js";

describe("exceedsJsonDepth", () => {
  it("allows nesting up to the limit and refuses one level more", () => {
    const nested = (n: number) => `${"[".repeat(n)}${"]".repeat(n)}`;
    expect(exceedsJsonDepth(nested(maxJsonDepth))).toBe(false);
    expect(exceedsJsonDepth(nested(maxJsonDepth + 1))).toBe(true);
    expect(
      exceedsJsonDepth(`${'{"a":'.repeat(maxJsonDepth + 1)}1${"}".repeat(maxJsonDepth + 1)}`),
    ).toBe(true);
  });

  it("does not count brackets inside strings, escaped quotes included", () => {
    const inString = JSON.stringify({ s: `\\"${"[".repeat(1000)}` });
    expect(exceedsJsonDepth(inString)).toBe(false);
    expect(exceedsJsonDepth(`["\\"", ${"[".repeat(maxJsonDepth)}`)).toBe(true);
  });

  it("counts siblings once: depth, not the number of objects", () => {
    const wide = JSON.stringify(Array.from({ length: 1000 }, () => ({ a: [1] })));
    expect(exceedsJsonDepth(wide)).toBe(false);
  });

  it("stops early on a 1 MiB body of opening brackets (no parse is attempted)", () => {
    expect(exceedsJsonDepth("[".repeat(1024 * 1024))).toBe(true);
  });
});
