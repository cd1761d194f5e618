import { deleteAliasesOf } from "./alias-cleanup.js";
import { ConcurrentUpdateError, type KeyBackend, type StoredKey } from "./backend.js";
import type { KeyCache } from "./cache.js";
import {
  createDeadlineIndex,
  type DeadlineIndex,
  FULL_SCAN_INTERVAL_MS,
} from "./deadline-index.js";
import { isKmsError, KmsError } from "./errors.js";
import { describeFailure, type EngineLog } from "./guard-backend.js";
import { sealKeyMaterial, unsealKeyMaterial } from "./key-material.js";
import { createKeyedMutex } from "./mutex.js";
import { rotationDeadline } from "./rotation-schedule.js";
import { createSingleFlight } from "./single-flight.js";

/**
 * KeyStore is the engine's view of one opened backend: it reads keys through
 * the cache, serialises writes per key, seals and unseals key material under
 * the key-encryption key, and treats a key whose deletion date has passed as
 * gone (destroying it on sight), so that rule holds whether or not the sweep
 * has run yet.
 */
/**
 * KEY_DESTROYED_MESSAGE is the engine log's message for each key destroyed once its
 * deletion date passed (by the sweep, or on access): the gateway's audit trail listens for it.
 */
export const KEY_DESTROYED_MESSAGE = "key destroyed after its deletion date";

export interface KeyStore {
  readonly cache: KeyCache;
  /** deadlines knows the deletion dates of the keys pending deletion this store has seen. */
  readonly deadlines: DeadlineIndex;
  /**
   * rotations knows when each Enabled key with automatic rotation this store
   * has seen is due; it is fed by the same reads, so the deletion sweep's full
   * scan fills it too.
   */
  readonly rotations: DeadlineIndex;
  /** now is the store's clock. */
  now(): Date;
  /** load returns a key, or null when it does not exist or its deletion date has passed. */
  load(keyId: string): Promise<StoredKey | null>;
  /**
   * create stores a new key whose only version holds `material` (null under
   * backend custody), or rejects with KEY_EXISTS. It takes ownership of
   * `material` (cached or zero-filled).
   */
  create(key: StoredKey, material: Buffer | null): Promise<void>;
  /**
   * update applies `change` to the stored key under its lock and writes the
   * result (nothing is written when `change` returns the key it was given, so
   * an idempotent call costs no write); KEY_NOT_FOUND when the key is gone.
   * When another gateway changed the key meanwhile (ConcurrentUpdateError) it
   * reads the key again and re-applies `change`, up to UPDATE_ATTEMPTS times.
   */
  update(
    keyId: string,
    change: (key: StoredKey) => StoredKey | Promise<StoredKey>,
  ): Promise<StoredKey>;
  /** destroyIfDue destroys the key when it is pending deletion and its date has passed. */
  destroyIfDue(keyId: string): Promise<boolean>;
  /** material returns a copy of a version's unsealed material (the caller zeroises it), or null. */
  material(key: StoredKey, version: number): Buffer | null;
  /** seal seals fresh material for a key version. */
  seal(keyId: string, version: number, material: Uint8Array): Uint8Array;
  /**
   * setKeks replaces the key-encryption keys (a rekey): `primary` seals, and
   * material that `primary` does not open is tried under `secondary`. The store
   * owns both from now on; replaced ones are zero-filled.
   */
  setKeks(primary: Buffer, secondary: Buffer | null): void;
  /**
   * resealed returns `key` with every version that is not sealed under the
   * primary KEK resealed under it, or `key` itself when none needed it.
   */
  resealed(key: StoredKey): StoredKey;
  list(after: string | null, limit: number): Promise<{ ids: string[]; more: boolean }>;
  /** aliases are the backend's alias records, read and written as they are (no cache). */
  readonly aliases: Pick<
    KeyBackend,
    "createAlias" | "getAlias" | "putAlias" | "deleteAlias" | "listAliases"
  >;
  /**
   * withKeyLocked calls `fn` with the key as stored (null when it does not
   * exist or its deletion date has passed), holding the key's lock, so that
   * in this process no destroy of the key runs until `fn` settles: an alias
   * created for the key cannot outlive it.
   */
  withKeyLocked<T>(keyId: string, fn: (key: StoredKey | null) => Promise<T>): Promise<T>;
  health(): Promise<void>;
  /** close empties the cache, closes the backend and zero-fills the key-encryption key. */
  close(): Promise<void>;
}

/**
 * UPDATE_ATTEMPTS bounds how often update re-applies a change that lost a
 * check-and-set race to another gateway before giving up with the conflict.
 */
export const UPDATE_ATTEMPTS = 10;

/** KeyStoreOptions are what createKeyStore needs; `backend` must already be guarded. */
export interface KeyStoreOptions {
  backend: KeyBackend;
  /** The key-encryption key; null under backend custody, where the engine seals nothing. */
  kek: Buffer | null;
  cache: KeyCache;
  cacheEnabled: boolean;
  now: () => Date;
  log: EngineLog;
}

/** isDue tells whether a key is pending deletion and its deletion date has come. */
export function isDue(key: StoredKey, now: Date): boolean {
  return (
    key.keyState === "PendingDeletion" &&
    key.deletionDate !== null &&
    key.deletionDate.getTime() <= now.getTime()
  );
}

/** keyNotFound is the KEY_NOT_FOUND error for a key id. */
export function keyNotFound(keyId: string): KmsError {
  return new KmsError("KEY_NOT_FOUND", `key "${keyId}" not found`);
}

const versionsOf = (key: StoredKey) => key.versions.map((v) => v.version);

/** createKeyStore returns the KeyStore of an opened backend. */
export function createKeyStore(options: KeyStoreOptions): KeyStore {
  const { backend, cache, now, log } = options;
  let kek = options.kek;
  let secondaryKek: Buffer | null = null;
  const locks = createKeyedMutex();
  // Every key read from or written to the backend passes through `deadlines`,
  // so after one full scan the sweep needs to visit only the keys due.
  const deadlines = createDeadlineIndex();
  // The same for automatic rotation dates; the rotation sweep visits those due.
  const rotations = createDeadlineIndex(FULL_SCAN_INTERVAL_MS, rotationDeadline);
  function noteKey(key: StoredKey): void {
    deadlines.note(key);
    rotations.note(key);
  }
  function forgetKey(keyId: string): void {
    deadlines.forget(keyId);
    rotations.forget(keyId);
  }
  // Concurrent misses of one key share one backend read (contract §7).
  const flights = createSingleFlight<StoredKey | null>();

  // Call only while holding the key's lock.
  async function destroyLocked(key: StoredKey): Promise<void> {
    // Aliases first (AWS deletes a key's aliases with it): a crash between
    // the two leaves a due key, which the next access or sweep destroys again.
    const aliases = await deleteAliasesOf(backend, key.keyId);
    if (aliases > 0)
      log("info", "aliases of a destroyed key deleted", { keyId: key.keyId, aliases });
    await backend.destroy(key.keyId);
    forgetKey(key.keyId);
    cache.removeKey(key.keyId, versionsOf(key));
    cache.dropUnwrapped(key.keyId);
    log("info", KEY_DESTROYED_MESSAGE, { keyId: key.keyId });
  }

  async function destroyIfDue(keyId: string): Promise<boolean> {
    return locks.run(keyId, async () => {
      const key = await backend.get(keyId);
      if (key === null) {
        forgetKey(keyId);
        return false;
      }
      noteKey(key);
      if (!isDue(key, now())) return false;
      await destroyLocked(key);
      return true;
    });
  }

  async function load(keyId: string): Promise<StoredKey | null> {
    const cached = cache.getKey(keyId);
    if (cached !== undefined) {
      if (!isDue(cached, now())) return cached;
      cache.removeKey(keyId, []);
    }
    if (!options.cacheEnabled) {
      const key = await backend.get(keyId);
      if (key !== null) noteKey(key);
      if (key === null || !isDue(key, now())) return key;
      await destroyIfDue(keyId);
      return null;
    }
    // Fill the cache under the key's lock: a write to the same key cannot then
    // slip between our read and our fill and leave a stale entry behind. A
    // flight joined later was queued behind every write that had finished by
    // then, so what it returns is never older than what the joiner could see.
    return flights.run(keyId, () =>
      locks.run(keyId, async () => {
        // A write or another fill may have filled it while we waited for the lock.
        const again = cache.peekKey(keyId);
        if (again !== undefined && !isDue(again, now())) return again;
        const key = await backend.get(keyId);
        if (key === null) return null;
        noteKey(key);
        if (isDue(key, now())) {
          await destroyLocked(key);
          return null;
        }
        cache.putKey(key);
        return key;
      }),
    );
  }

  async function create(key: StoredKey, material: Buffer | null): Promise<void> {
    try {
      await locks.run(key.keyId, async () => {
        try {
          await backend.create(key);
        } catch (error) {
          if (!isKmsError(error, "KEY_EXISTS")) throw error;
          // A key past its deletion date is gone; it only awaits the sweep.
          const existing = await backend.get(key.keyId);
          if (existing === null || !isDue(existing, now())) {
            throw new KmsError("KEY_EXISTS", `key "${key.keyId}" already exists`);
          }
          await destroyLocked(existing);
          await backend.create(key);
        }
        cache.removeKey(key.keyId, versionsOf(key));
        cache.putKey(key);
        noteKey(key);
      });
    } catch (error) {
      material?.fill(0);
      throw error;
    }
    if (material !== null) cache.putMaterial(key.keyId, key.versions[0]?.version ?? 1, material);
  }

  async function update(
    keyId: string,
    change: (key: StoredKey) => StoredKey | Promise<StoredKey>,
  ): Promise<StoredKey> {
    return locks.run(keyId, async () => {
      for (let attempt = 1; ; attempt++) {
        const key = await backend.get(keyId);
        if (key === null) throw keyNotFound(keyId);
        if (isDue(key, now())) {
          await destroyLocked(key);
          throw keyNotFound(keyId);
        }
        const next = await change(key);
        if (next === key) {
          noteKey(key);
          return key;
        }
        try {
          await backend.put(next);
        } catch (error) {
          // The write may or may not have landed: forget what we knew, but keep a
          // deadline it may have set (the sweep re-reads the key before acting).
          cache.removeKey(keyId, []);
          cache.dropUnwrapped(keyId);
          // Another gateway wrote first and nothing was written: apply the
          // change again to what it wrote, so neither update is lost.
          if (error instanceof ConcurrentUpdateError && attempt < UPDATE_ATTEMPTS) {
            // A random pause, growing with each loss, so two replicas that keep
            // colliding on one key fall out of step instead of losing in turn.
            await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
            continue;
          }
          if (next.keyState === "PendingDeletion") deadlines.note(next);
          throw error;
        }
        // A state change must reach cached unwrap results at once (contract §7).
        if (next.keyState !== key.keyState) cache.dropUnwrapped(keyId);
        cache.putKey(next);
        noteKey(next);
        return next;
      }
    });
  }

  /** sealingKek is the KEK, or BACKEND_ERROR under backend custody, which seals nothing. */
  function sealingKek(): Buffer {
    if (kek === null) {
      throw new KmsError(
        "BACKEND_ERROR",
        "this backend holds the key material; the engine seals none",
      );
    }
    return kek;
  }

  function material(key: StoredKey, version: number): Buffer | null {
    const cached = cache.getMaterial(key.keyId, version);
    if (cached !== undefined) return cached;
    const stored = key.versions.find((v) => v.version === version);
    if (stored === undefined) return null;
    const unsealed = unsealAny(key.keyId, version, stored.sealedMaterial);
    cache.putMaterial(key.keyId, version, Buffer.from(unsealed));
    return unsealed;
  }

  /** unsealAny opens material under the primary KEK, else (mid-rekey) under the secondary. */
  function unsealAny(keyId: string, version: number, sealed: Uint8Array): Buffer {
    try {
      return unsealKeyMaterial(sealingKek(), keyId, version, sealed);
    } catch (error) {
      if (secondaryKek === null) throw error;
      return unsealKeyMaterial(secondaryKek, keyId, version, sealed);
    }
  }

  function resealed(key: StoredKey): StoredKey {
    let changed = false;
    const versions = key.versions.map((v) => {
      try {
        unsealKeyMaterial(sealingKek(), key.keyId, v.version, v.sealedMaterial).fill(0);
        return v;
      } catch {
        const material = unsealAny(key.keyId, v.version, v.sealedMaterial);
        try {
          changed = true;
          return {
            ...v,
            sealedMaterial: sealKeyMaterial(sealingKek(), key.keyId, v.version, material),
          };
        } finally {
          material.fill(0);
        }
      }
    });
    return changed ? { ...key, versions } : key;
  }

  return {
    cache,
    deadlines,
    rotations,
    now,
    load,
    create,
    update,
    destroyIfDue,
    material,
    seal: (keyId, version, bytes) => sealKeyMaterial(sealingKek(), keyId, version, bytes),
    setKeks(primary, secondary) {
      for (const old of [kek, secondaryKek]) {
        if (old !== null && old !== primary && old !== secondary) old.fill(0);
      }
      kek = primary;
      secondaryKek = secondary;
    },
    resealed,
    list: (after, limit) => backend.list(after, limit),
    aliases: {
      createAlias: (alias) => backend.createAlias(alias),
      getAlias: (name) => backend.getAlias(name),
      putAlias: (alias) => backend.putAlias(alias),
      deleteAlias: (name) => backend.deleteAlias(name),
      listAliases: (after, limit) => backend.listAliases(after, limit),
    },
    withKeyLocked: (keyId, fn) =>
      locks.run(keyId, async () => {
        const key = await backend.get(keyId);
        if (key === null) return fn(null);
        noteKey(key);
        if (!isDue(key, now())) return fn(key);
        await destroyLocked(key);
        return fn(null);
      }),
    health: () => backend.health(),
    async close() {
      cache.clear();
      try {
        await backend.close();
      } catch (error) {
        // Closing must not fail a stop.
        log("warn", "backend close failed", { error: describeFailure(error) });
      }
      cache.clear();
      kek?.fill(0);
      secondaryKek?.fill(0);
    },
  };
}
