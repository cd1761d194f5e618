import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createReplayCache } from "../../src/auth/replay-cache.js";

describe("createReplayCache", () => {
  /** sig is a SigV4-like signature: 64 hex digits that differ from the first. */
  const sig = (n: number) => createHash("sha256").update(String(n)).digest("hex");

  it("says fresh once, then replayed for the rest of the window, then forgets", () => {
    let t = 0;
    const cache = createReplayCache({ windowMs: 1_000, maxEntries: 10, now: () => t });
    expect(cache.check(sig(1))).toBe("fresh");
    expect(cache.check(sig(2))).toBe("fresh");
    t = 999;
    expect(cache.check(sig(1))).toBe("replayed");
    t = 1_000;
    expect(cache.check(sig(1))).toBe("fresh");
    expect(cache.size()).toBe(1);
  });

  it("refuses new signatures when full instead of forgetting one still replayable", () => {
    let t = 0;
    const cache = createReplayCache({ windowMs: 1_000, maxEntries: 3, now: () => t });
    for (let i = 0; i < 3; i++) expect(cache.check(sig(i))).toBe("fresh");
    expect(cache.check(sig(9))).toBe("full");
    expect(cache.check(sig(0))).toBe("replayed");
    t = 1_000;
    expect(cache.check(sig(9))).toBe("fresh");
  });
});
