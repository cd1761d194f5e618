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
 * KeyCache caches key metadata (StoredKey), unsealed key material per
 * (key id, version), and — for backends that hold the material themselves —
 * unwrap results per (key id, blob and context), each bounded to `maxKeys`
 * entries (least recently used evicted first) and expiring `ttlSeconds` after
 * being stored (contract §7). Material and plaintext leaving the cache
 * (eviction, expiry, removal, clear) are zero-filled.
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
  /**
   * getUnwrapped returns a copy of the cached result of unwrapping a blob under
   * a key (the caller zeroises it), or undefined; `digest` names the blob and
   * its encryption context (a hash, so the cache holds no ciphertext).
   */
  getUnwrapped(keyId: string, digest: string): Buffer | undefined;
  /** putUnwrapped takes ownership of `plaintext`, as putMaterial does. */
  putUnwrapped(keyId: string, digest: string, plaintext: Buffer): void;
  /** dropUnwrapped drops (and zero-fills) every cached unwrap result of a key. */
  dropUnwrapped(keyId: string): void;
  /** clear empties the cache and zero-fills every cached key byte. */
  clear(): void;
  /** prune drops (and zero-fills) every expired entry, so expired material does not linger. */
  prune(): void;
  /** size tells how many entries each part holds. */
  size(): { keys: number; materials: number; unwrapped: number };
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
      getUnwrapped: () => undefined,
      putUnwrapped: (_keyId, _digest, plaintext) => {
        plaintext.fill(0);
      },
      dropUnwrapped: () => {},
      clear: () => {},
      prune: () => {},
      size: () => ({ keys: 0, materials: 0, unwrapped: 0 }),
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
  const wipe = (bytes: Buffer) => {
    bytes.fill(0);
  };
  const unwrapped = createLru<Buffer>(options.maxKeys, ttlMs, options.now, wipe, evicted);
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
    getUnwrapped(keyId, digest) {
      const plaintext = counted(unwrapped.get(`${keyId}#${digest}`));
      return plaintext === undefined ? undefined : Buffer.from(plaintext);
    },
    putUnwrapped: (keyId, digest, plaintext) => unwrapped.set(`${keyId}#${digest}`, plaintext),
    // O(entries), but only on a state change of a key, never per request.
    dropUnwrapped: (keyId) => unwrapped.deleteWhere((key) => key.startsWith(`${keyId}#`)),
    clear() {
      keys.clear();
      materials.clear();
      unwrapped.clear();
    },
    prune() {
      keys.prune();
      materials.prune();
      unwrapped.prune();
    },
    size: () => ({ keys: keys.size(), materials: materials.size(), unwrapped: unwrapped.size() }),
    stats: () => ({ ...counts, entries: keys.size() + materials.size() + unwrapped.size() }),
  };
}

interface Lru<V> {
  get(key: string): V | undefined;
  set(key: string, value: V): void;
  delete(key: string): void;
  deleteWhere(match: (key: string) => boolean): void;
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
  /**
   * The key last in the Map (the most recently used), when known: a gateway serving
   * one key call after call finds it here and skips moving it to the end again.
   */
  let newest: string | undefined;
  function drop(key: string): void {
    const entry = entries.get(key);
    if (entry === undefined) return;
    if (key === newest) newest = undefined;
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
      if (key !== newest) {
        entries.delete(key);
        entries.set(key, entry);
        newest = key;
      }
      return entry.value;
    },
    set(key, value) {
      const previous = entries.get(key);
      if (previous !== undefined && previous.value !== value) drop(key);
      else entries.delete(key);
      entries.set(key, { value, expiresAt: now().getTime() + ttlMs });
      newest = key;
      while (entries.size > maxEntries) {
        const oldest = entries.keys().next().value as string;
        evict(oldest);
      }
    },
    delete: drop,
    deleteWhere(match) {
      for (const key of [...entries.keys()]) if (match(key)) drop(key);
    },
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
