import type { BackendFactory, KeyBackend, StoredKey } from "../../src/engine/backend.js";
import { KmsError } from "../../src/engine/errors.js";
import type { AliasEntry, KmsConfig } from "../../src/engine/types.js";

/** MemoryKeyOperation names a KeyBackend method, for injecting failures. */
export type MemoryKeyOperation = Exclude<keyof KeyBackend, "close">;

/**
 * MemoryBackendStore is the data behind memory backends: it outlives any one
 * backend object, so a "restarted" engine can open the same keys again.
 */
export interface MemoryBackendStore {
  readonly keys: Map<string, StoredKey>;
  /** The ids of `keys` in ascending byte order (the list index). */
  readonly ids: string[];
  /** The aliases by name. */
  readonly aliases: Map<string, AliasEntry>;
  keyring: Uint8Array | null;
  /** When false, health() rejects with BACKEND_ERROR. */
  healthy: boolean;
  /** Operations that throw a plain (non-KmsError) Error, as a broken backend would. */
  readonly failing: Set<MemoryKeyOperation>;
  /** Counts of calls per operation, to check that work is bounded. */
  readonly calls: Map<string, number>;
  /** Backends opened / closed over this store. */
  opened: number;
  closed: number;
}

/** createMemoryBackendStore returns an empty store. */
export function createMemoryBackendStore(): MemoryBackendStore {
  return {
    keys: new Map(),
    ids: [],
    aliases: new Map(),
    keyring: null,
    healthy: true,
    failing: new Set(),
    calls: new Map(),
    opened: 0,
    closed: 0,
  };
}

// Deep copies both ways, so neither side can change the other's objects.
function copyKey(key: StoredKey): StoredKey {
  return structuredClone(key);
}

/**
 * createMemoryBackend returns a KeyBackend over `store` with the interface's
 * semantics: create is exclusive (KEY_EXISTS), put needs an existing key
 * (KEY_NOT_FOUND), list is in ascending byte order with an exclusive `after`
 * and costs O(log n + limit) over a sorted id index.
 */
export function createMemoryBackend(store: MemoryBackendStore): KeyBackend {
  let closed = false;
  store.opened++;
  const sorted = store.ids;

  function enter(operation: MemoryKeyOperation): void {
    store.calls.set(operation, (store.calls.get(operation) ?? 0) + 1);
    if (closed) throw new Error("memory backend used after close");
    if (store.failing.has(operation)) throw new Error(`injected ${operation} failure`);
  }

  return {
    async health() {
      enter("health");
      if (!store.healthy) throw new KmsError("BACKEND_ERROR", "memory backend is unhealthy");
    },
    async create(key) {
      enter("create");
      if (store.keys.has(key.keyId)) {
        throw new KmsError("KEY_EXISTS", `key ${key.keyId} already exists`);
      }
      store.keys.set(key.keyId, copyKey(key));
      sorted.splice(lowerBound(sorted, key.keyId), 0, key.keyId);
    },
    async get(keyId) {
      enter("get");
      const key = store.keys.get(keyId);
      return key === undefined ? null : copyKey(key);
    },
    async put(key) {
      enter("put");
      if (!store.keys.has(key.keyId)) {
        throw new KmsError("KEY_NOT_FOUND", `key ${key.keyId} not found`);
      }
      store.keys.set(key.keyId, copyKey(key));
    },
    async list(after, limit) {
      enter("list");
      let start = after === null ? 0 : lowerBound(sorted, after);
      if (after !== null && sorted[start] === after) start++;
      const ids = sorted.slice(start, start + limit);
      return { ids, more: start + limit < sorted.length };
    },
    async destroy(keyId) {
      enter("destroy");
      if (store.keys.delete(keyId)) {
        sorted.splice(lowerBound(sorted, keyId), 1);
      }
    },
    async createAlias(alias) {
      enter("createAlias");
      if (store.aliases.has(alias.aliasName)) {
        throw new KmsError("KEY_EXISTS", `alias ${alias.aliasName} already exists`);
      }
      store.aliases.set(alias.aliasName, structuredClone(alias));
    },
    async getAlias(aliasName) {
      enter("getAlias");
      const alias = store.aliases.get(aliasName);
      return alias === undefined ? null : structuredClone(alias);
    },
    async putAlias(alias) {
      enter("putAlias");
      if (!store.aliases.has(alias.aliasName)) {
        throw new KmsError("KEY_NOT_FOUND", `alias ${alias.aliasName} not found`);
      }
      store.aliases.set(alias.aliasName, structuredClone(alias));
    },
    async deleteAlias(aliasName) {
      enter("deleteAlias");
      store.aliases.delete(aliasName);
    },
    async listAliases(after, limit) {
      enter("listAliases");
      // A test helper: sorting every call is fine at test sizes.
      const names = [...store.aliases.keys()]
        .filter((name) => after === null || compareIds(name, after) > 0)
        .sort(compareIds);
      const aliases = names.slice(0, limit).map((n) => structuredClone(store.aliases.get(n)));
      return { aliases: aliases as AliasEntry[], more: names.length > limit };
    },
    async readKeyring() {
      enter("readKeyring");
      return store.keyring === null ? null : Uint8Array.from(store.keyring);
    },
    async writeKeyring(bytes) {
      enter("writeKeyring");
      store.keyring = Uint8Array.from(bytes);
    },
    async close() {
      if (!closed) store.closed++;
      closed = true;
    },
  };
}

/** compareIds orders ids by their UTF-8 bytes. */
export function compareIds(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

function lowerBound(sorted: readonly string[], id: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (compareIds(sorted[mid] as string, id) < 0) low = mid + 1;
    else high = mid;
  }
  return low;
}

/**
 * MemoryBackends hands out memory backends per local `key_dir` (one store per
 * directory), so tests can switch directories, restart engines on the same
 * data, and see what was opened.
 */
export interface MemoryBackends {
  factory: BackendFactory;
  /** storeFor returns (creating it if needed) the store behind a key_dir. */
  storeFor(keyDir: string): MemoryBackendStore;
  /** configs holds the configuration each factory call received. */
  readonly configs: KmsConfig[];
}

/** createMemoryBackends returns a factory of memory backends keyed by key_dir. */
export function createMemoryBackends(): MemoryBackends {
  const stores = new Map<string, MemoryBackendStore>();
  const configs: KmsConfig[] = [];
  function storeFor(keyDir: string): MemoryBackendStore {
    let store = stores.get(keyDir);
    if (store === undefined) {
      store = createMemoryBackendStore();
      stores.set(keyDir, store);
    }
    return store;
  }
  return {
    configs,
    storeFor,
    async factory(config) {
      configs.push(structuredClone(config));
      if (config.backend.backendType !== "local") {
        throw new KmsError("BACKEND_ERROR", "memory backends serve only local configurations");
      }
      return createMemoryBackend(storeFor(config.backend.keyDir));
    },
  };
}
