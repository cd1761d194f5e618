import { describe, expect, it } from "vitest";
import { createKeyCache } from "../../src/engine/cache.js";
import { createFixture, KEY_DIR, LOCAL_CONFIG, storedKey } from "./engine-fixture.js";

const isZero = (bytes: Uint8Array) => bytes.every((b) => b === 0);

describe("createKeyCache", () => {
  it("clear empties both parts and zero-fills the cached key bytes", () => {
    const cache = createKeyCache({
      enabled: true,
      maxKeys: 10,
      ttlSeconds: 60,
      now: () => new Date(),
    });
    const material = Buffer.alloc(32, 0xab);
    cache.putKey(storedKey("k"));
    cache.putMaterial("k", 1, material);
    const copy = cache.getMaterial("k", 1);
    expect(copy).toEqual(Buffer.alloc(32, 0xab));
    cache.clear();
    expect(isZero(material)).toBe(true);
    // The copy handed out belongs to the caller and is untouched.
    expect(copy).toEqual(Buffer.alloc(32, 0xab));
    expect(cache.getKey("k")).toBeUndefined();
    expect(cache.getMaterial("k", 1)).toBeUndefined();
    expect(cache.size()).toEqual({ keys: 0, materials: 0, unwrapped: 0 });
  });

  it("is bounded by maxKeys, evicting the least recently used and zero-filling it", () => {
    const cache = createKeyCache({
      enabled: true,
      maxKeys: 2,
      ttlSeconds: 60,
      now: () => new Date(),
    });
    const buffers = [Buffer.alloc(32, 1), Buffer.alloc(32, 2), Buffer.alloc(32, 3)];
    cache.putMaterial("a", 1, buffers[0] as Buffer);
    cache.putMaterial("b", 1, buffers[1] as Buffer);
    cache.getMaterial("a", 1); // a is now the most recently used
    cache.putMaterial("c", 1, buffers[2] as Buffer);
    expect(cache.size().materials).toBe(2);
    expect(cache.getMaterial("b", 1)).toBeUndefined();
    expect(isZero(buffers[1] as Buffer)).toBe(true);
    expect(cache.getMaterial("a", 1)).toEqual(Buffer.alloc(32, 1));
    for (const id of ["a", "b", "c"]) cache.putKey(storedKey(id));
    expect(cache.size().keys).toBe(2);
    expect(cache.getKey("a")).toBeUndefined();
  });

  it("keeps the LRU order when one key is read again and again, dropped, and put back", () => {
    const cache = createKeyCache({
      enabled: true,
      maxKeys: 2,
      ttlSeconds: 60,
      now: () => new Date(),
    });
    for (const id of ["a", "b"]) cache.putKey(storedKey(id));
    // a is read repeatedly (the second and later reads find it already the newest).
    for (let i = 0; i < 3; i++) expect(cache.getKey("a")?.keyId).toBe("a");
    cache.putKey(storedKey("c")); // evicts b, the least recently used
    expect(cache.peekKey("b")).toBeUndefined();
    expect(cache.getKey("c")?.keyId).toBe("c");
    expect(cache.getKey("a")?.keyId).toBe("a"); // now a is the newest, c the oldest
    cache.removeKey("a", []);
    cache.putKey(storedKey("b"));
    cache.putKey(storedKey("d")); // evicts c: a was removed, so c is the oldest
    expect(cache.peekKey("c")).toBeUndefined();
    expect(cache.getKey("b")?.keyId).toBe("b");
    expect(cache.getKey("d")?.keyId).toBe("d");
    cache.putKey(storedKey("a")); // evicts b, older than d since d was read last
    expect(cache.peekKey("b")).toBeUndefined();
    expect(cache.getKey("d")?.keyId).toBe("d");
  });

  it("expires entries after the TTL and zero-fills expired material", () => {
    let now = 1_000_000;
    const cache = createKeyCache({
      enabled: true,
      maxKeys: 10,
      ttlSeconds: 5,
      now: () => new Date(now),
    });
    const material = Buffer.alloc(32, 9);
    cache.putKey(storedKey("k"));
    cache.putMaterial("k", 1, material);
    now += 4_999;
    expect(cache.getKey("k")).toBeDefined();
    expect(cache.getMaterial("k", 1)).toBeDefined();
    now += 1;
    expect(cache.getKey("k")).toBeUndefined();
    expect(cache.getMaterial("k", 1)).toBeUndefined();
    expect(isZero(material)).toBe(true);
  });

  it("prune drops expired entries nobody asked for", () => {
    let now = 0;
    const cache = createKeyCache({
      enabled: true,
      maxKeys: 10,
      ttlSeconds: 1,
      now: () => new Date(now),
    });
    const material = Buffer.alloc(32, 5);
    cache.putMaterial("k", 1, material);
    now = 1000;
    cache.prune();
    expect(cache.size().materials).toBe(0);
    expect(isZero(material)).toBe(true);
  });

  it("a disabled cache keeps nothing and zero-fills what it is given", () => {
    const cache = createKeyCache({
      enabled: false,
      maxKeys: 10,
      ttlSeconds: 5,
      now: () => new Date(),
    });
    const material = Buffer.alloc(32, 7);
    cache.putMaterial("k", 1, material);
    cache.putKey(storedKey("k"));
    expect(isZero(material)).toBe(true);
    expect(cache.getKey("k")).toBeUndefined();
  });
});

describe("engine cache", () => {
  it("serves repeated reads from the cache, and clearCache drops it", async () => {
    const f = await createFixture();
    await f.engine.createKey({ description: "old", tags: { name: "k" } });
    const store = f.backends.storeFor(KEY_DIR);
    const stored = store.keys.get("k");
    if (stored === undefined) throw new Error("missing key");
    store.keys.set("k", { ...stored, description: "changed behind the engine's back" });
    expect((await f.engine.describeKey("k")).description).toBe("old");
    store.calls.clear();
    const { ciphertextBlob, plaintextKey } = await f.engine.generateDataKey({ keyId: "k" });
    expect(store.calls.get("get")).toBeUndefined();
    f.engine.clearCache();
    expect((await f.engine.describeKey("k")).description).toBe("changed behind the engine's back");
    expect((await f.engine.decrypt({ ciphertextBlob })).plaintextKey).toEqual(plaintextKey);
  });

  it("shows this process's state changes on the very next request", async () => {
    const f = await createFixture();
    await f.engine.createKey({ tags: { name: "k" } });
    await f.engine.generateDataKey({ keyId: "k" });
    expect((await f.engine.describeKey("k")).keyState).toBe("Enabled");
    await f.engine.scheduleKeyDeletion("k", 7);
    expect((await f.engine.describeKey("k")).keyState).toBe("PendingDeletion");
    await expect(f.engine.generateDataKey({ keyId: "k" })).rejects.toMatchObject({
      code: "INVALID_KEY_STATE",
    });
    await f.engine.cancelKeyDeletion("k");
    expect((await f.engine.generateDataKey({ keyId: "k" })).keyId).toBe("k");
    expect((await f.engine.listKeys({})).keys[0]?.keyState).toBe("Enabled");
  });

  it("expires cached metadata after cache_ttl_seconds (injected clock)", async () => {
    const f = await createFixture({ configure: { ...LOCAL_CONFIG, cacheTtlSeconds: 60 } });
    await f.engine.createKey({ description: "old", tags: { name: "k" } });
    const store = f.backends.storeFor(KEY_DIR);
    const stored = store.keys.get("k");
    if (stored === undefined) throw new Error("missing key");
    store.keys.set("k", { ...stored, description: "new" });
    f.now = new Date(f.now.getTime() + 59_000);
    expect((await f.engine.describeKey("k")).description).toBe("old");
    f.now = new Date(f.now.getTime() + 1_000);
    expect((await f.engine.describeKey("k")).description).toBe("new");
  });

  it("holds at most max_cached_keys keys", async () => {
    const f = await createFixture({ configure: { ...LOCAL_CONFIG, maxCachedKeys: 2 } });
    for (const id of ["a", "b", "c"]) await f.engine.createKey({ tags: { name: id } });
    const store = f.backends.storeFor(KEY_DIR);
    store.calls.clear();
    await f.engine.describeKey("b");
    await f.engine.describeKey("c");
    expect(store.calls.get("get")).toBeUndefined();
    await f.engine.describeKey("a");
    expect(store.calls.get("get")).toBe(1);
  });

  it("with enable_cache false every read goes to the backend", async () => {
    const f = await createFixture({ configure: { ...LOCAL_CONFIG, enableCache: false } });
    await f.engine.createKey({ tags: { name: "k" } });
    const store = f.backends.storeFor(KEY_DIR);
    store.calls.clear();
    await f.engine.describeKey("k");
    await f.engine.describeKey("k");
    expect(store.calls.get("get")).toBe(2);
  });
});
