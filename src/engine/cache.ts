import type { StoredKey } from "./backend.js";

/**
 * CacheStats counts what a KeyCache did since it was made: lookups answered
 * (`hits`) and not (`misses`), entries dropped for the size bound or their TTL
 * (`evictions`; removals and clears are not evictions), and the entries held
 * now, metadata and material together.
 */
export interface CacheStats {
  hits: number;
  misses: number;
  evictions: number;
  entries: number;
}

/**
 * KeyCache caches key metadata (StoredKey) and unsealed key material per
 * (key id, version), each bounded to `maxKeys` entries (least recently used
 * evicted first) and expiring `ttlSeconds` after being stored (contract §7).
 * Material leaving the cache (eviction, expiry, removal, clear) is zero-filled.
 */
export interface KeyCache {
  /** getKey returns the cached metadata of a key, or undefined; counted as a hit or a miss. */
  getKey(keyId: string): StoredKey | undefined;
  /**
   * peekKey is getKey without counting: for a second look at the same lookup
   * (after waiting for a lock), which must not count as a second miss.
   */
  peekKey(keyId: string): StoredKey | undefined;
  /** putKey stores a key's metadata; call it after every write so changes show at once. */
  putKey(key: StoredKey): void;
  /** removeKey drops a key's metadata and the material of the given versions. */
  removeKey(keyId: string, versions: readonly number[]): void;
  /** getMaterial returns a copy of cached material (the caller zeroises it), or undefined. */
  getMaterial(keyId: string, version: number): Buffer | undefined;
  /**
   * putMaterial takes ownership of `material`: the cache keeps that very buffer
   * and zero-fills it when the entry leaves (a disabled cache zero-fills it at once).
   */
  putMaterial(keyId: string, version: number, material: Buffer): void;
  /** clear empties the cache and zero-fills every cached key byte. */
  clear(): void;
  /** prune drops (and zero-fills) every expired entry, so expired material does not linger. */
  prune(): void;
  /** size tells how many entries each part holds. */
  size(): { keys: number; materials: number };
  /** stats returns the counts since the cache was made (a disabled cache counts nothing). */
  stats(): CacheStats;
}

/** KeyCacheOptions configures createKeyCache. */
export interface KeyCacheOptions {
  enabled: boolean;
  maxKeys: number;
  ttlSeconds: number;
  now: () => Date;
}

interface Entry<V> {
  value: V;
  expiresAt: number;
}

/** createKeyCache returns a KeyCache; with `enabled: false` it stores nothing. */
export function createKeyCache(options: KeyCacheOptions): KeyCache {
  if (!options.enabled) {
    return {
      getKey: () => undefined,
      peekKey: () => undefined,
      putKey: () => {},
      removeKey: () => {},
      getMaterial: () => undefined,
      putMaterial: (_keyId, _version, material) => {
        material.fill(0);
      },
      clear: () => {},
      prune: () => {},
      size: () => ({ keys: 0, materials: 0 }),
      stats: () => ({ hits: 0, misses: 0, evictions: 0, entries: 0 }),
    };
  }
  const ttlMs = options.ttlSeconds * 1000;
  const counts = { hits: 0, misses: 0, evictions: 0 };
  const evicted = () => {
    counts.evictions++;
  };
  const keys = createLru<StoredKey>(options.maxKeys, ttlMs, options.now, () => {}, evicted);
  const materials = createLru<Buffer>(
    options.maxKeys,
    ttlMs,
    options.now,
    (material) => {
      material.fill(0);
    },
    evicted,
  );
  function counted<V>(value: V | undefined): V | undefined {
    if (value === undefined) counts.misses++;
    else counts.hits++;
    return value;
  }
  // "#" cannot occur in a key id, so this is unambiguous.
  const materialKey = (keyId: string, version: number) => `${keyId}#${version}`;
  return {
    getKey: (keyId) => counted(keys.get(keyId)),
    peekKey: (keyId) => keys.get(keyId),
    putKey: (key) => keys.set(key.keyId, key),
    removeKey(keyId, versions) {
      keys.delete(keyId);
      for (const version of versions) materials.delete(materialKey(keyId, version));
    },
    getMaterial(keyId, version) {
      const material = counted(materials.get(materialKey(keyId, version)));
      return material === undefined ? undefined : Buffer.from(material);
    },
    putMaterial: (keyId, version, material) => materials.set(materialKey(keyId, version), material),
    clear() {
      keys.clear();
      materials.clear();
    },
    prune() {
      keys.prune();
      materials.prune();
    },
    size: () => ({ keys: keys.size(), materials: materials.size() }),
    stats: () => ({ ...counts, entries: keys.size() + materials.size() }),
  };
}

interface Lru<V> {
  get(key: string): V | undefined;
  set(key: string, value: V): void;
  delete(key: string): void;
  clear(): void;
  prune(): void;
  size(): number;
}

// A Map iterates in insertion order, so re-inserting on access keeps the least
// recently used entry first.
function createLru<V>(
  maxEntries: number,
  ttlMs: number,
  now: () => Date,
  onLeave: (value: V) => void,
  onEvict: () => void,
): Lru<V> {
  const entries = new Map<string, Entry<V>>();
  function drop(key: string): void {
    const entry = entries.get(key);
    if (entry === undefined) return;
    entries.delete(key);
    onLeave(entry.value);
  }
  function evict(key: string): void {
    if (entries.has(key)) onEvict();
    drop(key);
  }
  return {
    get(key) {
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      if (entry.expiresAt <= now().getTime()) {
        evict(key);
        return undefined;
      }
      entries.delete(key);
      entries.set(key, entry);
      return entry.value;
    },
    set(key, value) {
      const previous = entries.get(key);
      if (previous !== undefined && previous.value !== value) drop(key);
      else entries.delete(key);
      entries.set(key, { value, expiresAt: now().getTime() + ttlMs });
      while (entries.size > maxEntries) {
        const oldest = entries.keys().next().value as string;
        evict(oldest);
      }
    },
    delete: drop,
    clear() {
      for (const key of [...entries.keys()]) drop(key);
    },
    prune() {
      const time = now().getTime();
      for (const [key, entry] of [...entries]) if (entry.expiresAt <= time) evict(key);
    },
    size: () => entries.size,
  };
}
