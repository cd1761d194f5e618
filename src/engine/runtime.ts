import type { BackendFactory, KeyBackend } from "./backend.js";
import { type CacheStats, createKeyCache } from "./cache.js";
import { withDeadline } from "./deadline.js";
import { sweepDueDeletions } from "./deletion-sweep.js";
import { KmsError } from "./errors.js";
import { describeFailure, type EngineLog, guardBackend, toKmsError } from "./guard-backend.js";
import { createBackendCustody, createEnvelopeCustody, type KeyCustody } from "./key-custody.js";
import { createKeyStore, type KeyStore } from "./key-store.js";
import {
  beginRekey,
  encodeKeyring,
  type KeyringFile,
  type KeyringState,
  openKeyring,
} from "./keyring.js";
import { resealAll, settleKeyring } from "./rekey.js";
import { sweepDueRotations } from "./rotation-sweep.js";
import type { KmsConfig } from "./types.js";

/**
 * Runtime is one started backend: its KeyStore, its health as last seen, the
 * deletion sweeper, and a count of the calls in flight so that retiring it
 * (stop, or a reconfigure swap) lets those calls finish before the backend is
 * closed and the key-encryption key wiped.
 */
export interface Runtime {
  readonly config: KmsConfig;
  /** custody wraps and unwraps under the keys' material: the engine's envelope, or the backend's own. */
  readonly custody: KeyCustody;
  /** healthy is the result of the last health check (true right after opening). */
  healthy: boolean;
  /** run calls `fn` with the store, counted as in flight; NOT_RUNNING once retired. */
  run<T>(fn: (store: KeyStore) => Promise<T>): Promise<T>;
  /**
   * sweep runs one background sweep after any sweep in progress: due key
   * deletions, then due automatic rotations (the deletion sweep's full scans
   * teach the rotation index too); resolves to the numbers destroyed and rotated.
   */
  sweep(): Promise<{ destroyed: number; rotated: number }>;
  /** startSweeper sweeps once now and then every `intervalMs` (an unref'd timer). */
  startSweeper(intervalMs: number): void;
  /** clearCache empties the cache and zero-fills cached key bytes. */
  clearCache(): void;
  /** cacheStats returns the cache's counts since this runtime opened. */
  cacheStats(): CacheStats;
  /**
   * rekey reseals every key's material under the KEK of `newMasterKey`, calls
   * `commit` (which durably makes `newMasterKey` the configured one) and then
   * settles the keyring on the new KEK; it resolves to how many keys were
   * resealed. Crash-safe at every step: until the keyring settles it holds
   * both KEKs, each sealed under the other, so a restart with either master
   * key opens every key and finishes (new key) or rolls back (old key).
   * CONFIG_CONFLICT while an earlier rekey is still being finished.
   */
  rekey(newMasterKey: string, commit: () => Promise<void>): Promise<number>;
  /** retire stops new calls and the sweeper, then closes the backend once calls in flight finish. */
  retire(): Promise<void>;
}

/** OpenRuntimeOptions are what openRuntime needs. */
export interface OpenRuntimeOptions {
  config: KmsConfig;
  /**
   * The master key the key-encryption key is derived from (secret); null for
   * a backend that holds the material itself, which needs none.
   */
  masterKey: string | null;
  factory: BackendFactory;
  now: () => Date;
  log: EngineLog;
}

/**
 * openRuntime opens the backend a configuration names, checks its health and
 * derives the key-encryption key (once per start), all within the
 * configuration's `timeout_seconds`: a backend that hangs fails the start with
 * BACKEND_ERROR instead of holding every later lifecycle call behind it, and
 * is closed if it opens after all. Any failure closes what was opened and
 * rejects with a KmsError.
 */
export async function openRuntime(options: OpenRuntimeOptions): Promise<Runtime> {
  const { config, log } = options;
  const opened = await withDeadline(
    openStore(options),
    config.timeoutSeconds * 1000,
    `opening the ${config.backend.backendType} backend`,
    (late) => {
      log("warn", "a backend opened after its deadline and is closed unused");
      void late.store.close();
    },
  );
  return createRuntime(config, opened, log);
}

interface OpenedStore {
  store: KeyStore;
  custody: KeyCustody;
  backend: KeyBackend;
  keyring: KeyringState;
}

/** NO_KEYRING is the keyring state of a backend that holds the material: no KEK at all. */
function noKeyring(): KeyringState {
  return { kek: Buffer.alloc(0), other: null, settle: null };
}

async function openStore(options: OpenRuntimeOptions): Promise<OpenedStore> {
  const { config, now, log } = options;
  let backend: Awaited<ReturnType<BackendFactory>>;
  try {
    backend = guardBackend(await options.factory(config), log);
  } catch (error) {
    throw toKmsError(error, "open", log);
  }
  let keyring: KeyringState;
  try {
    await backend.health();
    if (backend.custody !== undefined) {
      keyring = noKeyring();
    } else if (options.masterKey === null) {
      throw new KmsError("BACKEND_ERROR", "no master key is available for this backend");
    } else {
      keyring = await openKeyring(backend, options.masterKey);
    }
  } catch (error) {
    await backend.close().catch(() => undefined);
    throw toKmsError(error, "start", log);
  }
  const cache = createKeyCache({
    enabled: config.enableCache,
    maxKeys: config.maxCachedKeys,
    ttlSeconds: config.cacheTtlSeconds,
    now,
  });
  const store = createKeyStore({
    backend,
    kek: backend.custody === undefined ? keyring.kek : null,
    cache,
    cacheEnabled: config.enableCache,
    now,
    log,
  });
  // Mid-rekey (a crash during one): material may be under either KEK.
  if (keyring.other !== null) store.setKeks(keyring.kek, keyring.other);
  const custody =
    backend.custody === undefined
      ? createEnvelopeCustody(store)
      : createBackendCustody(backend.custody, cache);
  return { store, custody, backend, keyring };
}

function createRuntime(config: KmsConfig, opened: OpenedStore, log: EngineLog): Runtime {
  const { store, backend } = opened;
  let inFlight = 0;
  let retiring: Promise<void> | null = null;
  let drained: (() => void) | null = null;
  let timer: ReturnType<typeof setInterval> | null = null;
  let sweeping = false;
  let sweepTail: Promise<unknown> = Promise.resolve();

  // Calls in flight, so a rekey can wait for those that may have sealed
  // material under the KEK it is replacing.
  const calls = new Set<Promise<unknown>>();
  let unsettled = false;

  async function run<T>(fn: (store: KeyStore) => Promise<T>): Promise<T> {
    if (retiring !== null) throw new KmsError("NOT_RUNNING", "KMS is not running");
    inFlight++;
    let call: Promise<T> | undefined;
    try {
      call = fn(store);
      calls.add(call);
      return await call;
    } finally {
      if (call !== undefined) calls.delete(call);
      inFlight--;
      if (inFlight === 0) drained?.();
    }
  }

  const stopping = () => retiring !== null;

  /** settle finishes an unfinished rekey in the background: every key resealed under the primary KEK, then the keyring written. */
  function settle(target: KeyringFile): void {
    unsettled = true;
    void run(async (s) => {
      const rewritten = await settleKeyring(s, backend, target, stopping);
      s.setKeks(opened.keyring.kek, null);
      opened.keyring = { kek: opened.keyring.kek, other: null, settle: null };
      unsettled = false;
      log("info", "an unfinished master key change was completed", { keysResealed: rewritten });
    }).catch((error: unknown) => {
      if (retiring !== null) return;
      log("error", "finishing a master key change failed; the next start retries it", {
        error: describeFailure(error),
      });
    });
  }

  async function rekey(newMasterKey: string, commit: () => Promise<void>): Promise<number> {
    if (retiring !== null) throw new KmsError("NOT_RUNNING", "KMS is not running");
    if (backend.custody !== undefined) {
      throw new KmsError("INVALID_ARGUMENT", "rekey applies to the local backend only");
    }
    if (unsettled) {
      throw new KmsError(
        "CONFIG_CONFLICT",
        "a master key change is still being finished: try again later",
      );
    }
    // Counted in flight like run(), but not among `calls`: it waits for those.
    inFlight++;
    unsettled = true;
    const oldKek = opened.keyring.kek;
    let begun: Awaited<ReturnType<typeof beginRekey>> | null = null;
    let committed = false;
    try {
      begun = await beginRekey(backend, oldKek, newMasterKey);
      const { kek: newKek, next } = begun;
      // From here new material is sealed under the new KEK. Calls already in
      // flight may have sealed under the old one without having stored it yet:
      // wait for them, so the pass below cannot miss a key they create.
      const earlier = [...calls];
      store.setKeks(newKek, oldKek);
      opened.keyring = { kek: newKek, other: oldKek, settle: next };
      await Promise.allSettled(earlier);
      const rewritten = await resealAll(store, stopping);
      await commit();
      committed = true;
      await backend.writeKeyring(encodeKeyring(next));
      store.setKeks(newKek, null);
      opened.keyring = { kek: newKek, other: null, settle: null };
      unsettled = false;
      return rewritten;
    } catch (error) {
      if (begun !== null && !committed) {
        // Not committed: the configured master key is still the old one, so roll back.
        store.setKeks(oldKek, begun.kek);
        opened.keyring = { kek: oldKek, other: begun.kek, settle: begun.current };
        settle(begun.current);
      } else if (begun !== null) {
        settle(begun.next);
      } else {
        unsettled = false;
      }
      throw error;
    } finally {
      inFlight--;
      if (inFlight === 0) drained?.();
    }
  }

  function sweep(): Promise<{ destroyed: number; rotated: number }> {
    const result = sweepTail.then(() =>
      run(async (s) => {
        sweeping = true;
        try {
          s.cache.prune();
          const stopping = () => retiring !== null;
          const destroyed = await sweepDueDeletions(s, log, stopping);
          const rotated = await sweepDueRotations(s, opened.custody, log, stopping);
          return { destroyed, rotated };
        } finally {
          sweeping = false;
        }
      }),
    );
    sweepTail = result.catch(() => undefined);
    return result;
  }

  function background(): void {
    if (sweeping || retiring !== null) return;
    sweep().catch((error: unknown) => {
      if (retiring !== null) return;
      log("error", "deletion and rotation sweep failed", { error: describeFailure(error) });
    });
  }

  if (opened.keyring.settle !== null) settle(opened.keyring.settle);

  const runtime: Runtime = {
    config,
    custody: opened.custody,
    healthy: true,
    run,
    sweep,
    startSweeper(intervalMs) {
      if (timer !== null || retiring !== null) return;
      timer = setInterval(background, intervalMs);
      // The sweeper must never keep the process alive on its own.
      timer.unref();
      background();
    },
    clearCache: () => store.cache.clear(),
    cacheStats: () => store.cache.stats(),
    rekey,
    retire() {
      if (retiring !== null) return retiring;
      if (timer !== null) clearInterval(timer);
      timer = null;
      store.cache.clear();
      const idle =
        inFlight === 0
          ? Promise.resolve()
          : new Promise<void>((resolve) => {
              drained = resolve;
            });
      // Calls in flight get the configuration's timeout to finish; a hung one
      // must not hold stop, reconfigure or shutdown forever, so the backend is
      // then closed under it (its call fails, as it would have anyway).
      const deadline = config.timeoutSeconds * 1000;
      const drainedInTime = withDeadline(idle, deadline, "calls in flight").catch(() => {
        log("warn", "closing a backend with calls still in flight", { inFlight });
      });
      retiring = drainedInTime.then(() =>
        withDeadline(store.close(), deadline, "closing the backend").catch((error: unknown) => {
          log("warn", "backend close failed", { error: describeFailure(error) });
        }),
      );
      return retiring;
    },
  };
  return runtime;
}
