import { describe, expect, it } from "vitest";
import { createKeyCache } from "../../src/engine/cache.js";
import { createFixture, KEY_DIR, LOCAL_CONFIG, storedKey } from "./engine-fixture.js";

describe("cache statistics", () => {
  it("counts hits and misses of both parts; size-bound and TTL drops are evictions, removals and clears are not", () => {
    let now = 0;
    const cache = createKeyCache({
      enabled: true,
      maxKeys: 2,
      ttlSeconds: 10,
      now: () => new Date(now),
    });
    expect(cache.stats()).toEqual({ hits: 0, misses: 0, evictions: 0, entries: 0 });
    cache.getKey("a"); // miss
    cache.putKey(storedKey("a"));
    cache.getKey("a"); // hit
    cache.peekKey("a"); // not counted
    cache.peekKey("zz"); // not counted
    cache.putMaterial("a", 1, Buffer.alloc(32, 1));
    cache.getMaterial("a", 1)?.fill(0); // hit
    cache.getMaterial("a", 2); // miss
    expect(cache.stats()).toEqual({ hits: 2, misses: 2, evictions: 0, entries: 2 });
    cache.putKey(storedKey("b"));
    cache.putKey(storedKey("c")); // "a" leaves for the bound
    expect(cache.stats()).toMatchObject({ evictions: 1, entries: 3 });
    cache.removeKey("b", []); // a removal (a state change), not an eviction
    expect(cache.stats()).toMatchObject({ evictions: 1, entries: 2 });
    now = 10_000;
    expect(cache.getKey("c")).toBeUndefined(); // expired on sight: a miss and an eviction
    cache.prune(); // the material of "a" expires too
    expect(cache.stats()).toEqual({ hits: 2, misses: 3, evictions: 3, entries: 0 });
    cache.putKey(storedKey("d"));
    cache.clear();
    expect(cache.stats()).toEqual({ hits: 2, misses: 3, evictions: 3, entries: 0 });
  });

  it("a disabled cache counts nothing", () => {
    const cache = createKeyCache({
      enabled: false,
      maxKeys: 2,
      ttlSeconds: 10,
      now: () => new Date(),
    });
    cache.getKey("a");
    cache.getMaterial("a", 1);
    expect(cache.stats()).toEqual({ hits: 0, misses: 0, evictions: 0, entries: 0 });
  });
});

describe("engine cache: single flight and status", () => {
  it("sixteen concurrent misses of one key make one backend read", async () => {
    const f = await createFixture();
    await f.engine.createKey({ tags: { name: "k" } });
    f.engine.clearCache();
    const store = f.backends.storeFor(KEY_DIR);
    store.calls.clear();
    const all = await Promise.all(Array.from({ length: 16 }, () => f.engine.describeKey("k")));
    expect(all.every((meta) => meta.keyId === "k")).toBe(true);
    expect(store.calls.get("get")).toBe(1);
    // A failed read is shared too, and not cached: the next call reads again.
    f.engine.clearCache();
    store.failing.add("get");
    const failed = await Promise.allSettled(
      Array.from({ length: 8 }, () => f.engine.describeKey("k")),
    );
    expect(failed.every((r) => r.status === "rejected")).toBe(true);
    expect(store.calls.get("get")).toBe(2);
    store.failing.delete("get");
    expect((await f.engine.describeKey("k")).keyId).toBe("k");
    expect(store.calls.get("get")).toBe(3);
  });

  it("the status shows the counts while running and null when stopped; clear-cache keeps them", async () => {
    const f = await createFixture({ configure: { ...LOCAL_CONFIG, maxCachedKeys: 1 } });
    await f.engine.createKey({ tags: { name: "a" } });
    await f.engine.createKey({ tags: { name: "b" } }); // evicts a's metadata and material
    await f.engine.describeKey("b"); // hit
    await f.engine.describeKey("a"); // miss, evicts b
    const running = await f.engine.status();
    expect(running.cacheStats).toEqual({ hits: 1, misses: 1, evictions: 3, entries: 2 });
    f.engine.clearCache();
    expect((await f.engine.status()).cacheStats).toEqual({
      hits: 1,
      misses: 1,
      evictions: 3,
      entries: 0,
    });
    await f.engine.stop();
    expect((await f.engine.status()).cacheStats).toBeNull();
  });
});
