import type { BackendFactory } from "./backend.js";
import { type CacheStats, createKeyCache } from "./cache.js";
import { withDeadline } from "./deadline.js";
import { sweepDueDeletions } from "./deletion-sweep.js";
import { KmsError } from "./errors.js";
import { describeFailure, type EngineLog, guardBackend, toKmsError } from "./guard-backend.js";
import { createKeyStore, type KeyStore } from "./key-store.js";
import { unlockKeyring } from "./keyring.js";
import type { KmsConfig } from "./types.js";

/**
 * Runtime is one started backend: its KeyStore, its health as last seen, the
 * deletion sweeper, and a count of the calls in flight so that retiring it
 * (stop, or a reconfigure swap) lets those calls finish before the backend is
 * closed and the key-encryption key wiped.
 */
export interface Runtime {
  readonly config: KmsConfig;
  /** healthy is the result of the last health check (true right after opening). */
  healthy: boolean;
  /** run calls `fn` with the store, counted as in flight; NOT_RUNNING once retired. */
  run<T>(fn: (store: KeyStore) => Promise<T>): Promise<T>;
  /** sweep runs one deletion sweep after any sweep in progress; resolves to the number destroyed. */
  sweep(): Promise<number>;
  /** startSweeper sweeps once now and then every `intervalMs` (an unref'd timer). */
  startSweeper(intervalMs: number): void;
  /** clearCache empties the cache and zero-fills cached key bytes. */
  clearCache(): void;
  /** cacheStats returns the cache's counts since this runtime opened. */
  cacheStats(): CacheStats;
  /** retire stops new calls and the sweeper, then closes the backend once calls in flight finish. */
  retire(): Promise<void>;
}

/** OpenRuntimeOptions are what openRuntime needs. */
export interface OpenRuntimeOptions {
  config: KmsConfig;
  /** The master key the key-encryption key is derived from. Secret. */
  masterKey: string;
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
  const store = await withDeadline(
    openStore(options),
    config.timeoutSeconds * 1000,
    `opening the ${config.backend.backendType} backend`,
    (late) => {
      log("warn", "a backend opened after its deadline and is closed unused");
      void late.close();
    },
  );
  return createRuntime(config, store, log);
}

async function openStore(options: OpenRuntimeOptions): Promise<KeyStore> {
  const { config, now, log } = options;
  let backend: Awaited<ReturnType<BackendFactory>>;
  try {
    backend = guardBackend(await options.factory(config), log);
  } catch (error) {
    throw toKmsError(error, "open", log);
  }
  let kek: Buffer;
  try {
    await backend.health();
    kek = await unlockKeyring(backend, options.masterKey);
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
  return createKeyStore({
    backend,
    kek,
    cache,
    cacheEnabled: config.enableCache,
    now,
    log,
  });
}

function createRuntime(config: KmsConfig, store: KeyStore, log: EngineLog): Runtime {
  let inFlight = 0;
  let retiring: Promise<void> | null = null;
  let drained: (() => void) | null = null;
  let timer: ReturnType<typeof setInterval> | null = null;
  let sweeping = false;
  let sweepTail: Promise<unknown> = Promise.resolve();

  async function run<T>(fn: (store: KeyStore) => Promise<T>): Promise<T> {
    if (retiring !== null) throw new KmsError("NOT_RUNNING", "KMS is not running");
    inFlight++;
    try {
      return await fn(store);
    } finally {
      inFlight--;
      if (inFlight === 0) drained?.();
    }
  }

  function sweep(): Promise<number> {
    const result = sweepTail.then(() =>
      run(async (s) => {
        sweeping = true;
        try {
          s.cache.prune();
          return await sweepDueDeletions(s, log, () => retiring !== null);
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
      log("error", "deletion sweep failed", { error: describeFailure(error) });
    });
  }

  const runtime: Runtime = {
    config,
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
