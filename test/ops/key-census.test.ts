import { describe, expect, it } from "vitest";
import type { KeyListPage, ListKeysInput } from "../../src/engine/types.js";
import { createKeyCensus } from "../../src/server/key-census.js";

/** fakeListing serves `total` keys (every third disabled) in pages, counting the calls. */
function fakeListing(total: number) {
  const calls: ListKeysInput[] = [];
  return {
    calls,
    async listKeys(input: ListKeysInput): Promise<KeyListPage> {
      calls.push(input);
      const start = input.marker === undefined ? 0 : Number(input.marker) + 1;
      const end = Math.min(total, start + (input.limit ?? 100));
      const keys = [];
      for (let i = start; i < end; i++) {
        keys.push({
          keyId: String(i),
          description: null,
          keyState: i % 3 === 0 ? ("Disabled" as const) : ("Enabled" as const),
          tags: {},
          creationDate: new Date(0),
        });
      }
      return {
        keys,
        truncated: end < total,
        nextMarker: end < total ? String(end - 1) : null,
        unreadableKeyIds: [],
      };
    },
  };
}

describe("key census for the metrics", () => {
  it("counts a small store afresh at every scrape, in one page", async () => {
    const listing = fakeListing(10);
    const census = createKeyCensus(listing);
    expect(await census()).toEqual({ byState: { Disabled: 4, Enabled: 6 }, complete: true });
    await census();
    expect(listing.calls).toHaveLength(2);
  });

  it("stops at its cap, says so, and reuses a multi-page count until its TTL", async () => {
    const listing = fakeListing(5000);
    let clock = 0;
    const census = createKeyCensus(listing, { maxKeys: 2500, ttlMs: 1000, now: () => clock });
    const first = await census();
    expect(first?.complete).toBe(false);
    expect((first?.byState.Enabled ?? 0) + (first?.byState.Disabled ?? 0)).toBe(2500);
    expect(listing.calls.map((c) => c.limit)).toEqual([1000, 1000, 500]);
    clock = 999;
    expect(await census()).toBe(first);
    expect(listing.calls).toHaveLength(3);
    clock = 1000;
    await census();
    expect(listing.calls).toHaveLength(6);
  });

  it("shares one count between concurrent scrapes, and is null when listing fails", async () => {
    const listing = fakeListing(3);
    const census = createKeyCensus(listing);
    await Promise.all([census(), census(), census()]);
    expect(listing.calls).toHaveLength(1);
    const failing = createKeyCensus({
      listKeys: () => Promise.reject(new Error("not running")),
    });
    expect(await failing()).toBeNull();
  });
});
