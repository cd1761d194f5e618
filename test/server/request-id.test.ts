import { describe, expect, it } from "vitest";
import { requestIdOf } from "../../src/server/request-id.js";

describe("requestIdOf", () => {
  it("keeps a usable x-request-id and replaces anything else", () => {
    expect(requestIdOf("abc-1.2:3_Z")).toBe("abc-1.2:3_Z");
    for (const bad of [undefined, "", "a b", "x".repeat(129), ["a", "b"], 'q"']) {
      expect(requestIdOf(bad)).toMatch(/^[A-Za-z0-9_-]{16}$/);
    }
  });

  it("cuts fresh ids from its random pool without ever repeating one, across refills", () => {
    const ids = new Set<string>();
    for (let i = 0; i < 5_000; i++) ids.add(requestIdOf(undefined));
    expect(ids.size).toBe(5_000);
  });
});
