import { randomBytes } from "node:crypto";
import * as aliasOps from "./alias-operations.js";
import type { BackendFactory, PersistedState, StateStore } from "./backend.js";
import { configSummary, configView } from "./config-summary.js";
import * as cryptoOps from "./crypto-operations.js";
import { withDeadline } from "./deadline.js";
import { KmsError } from "./errors.js";
import { describeFailure, type EngineLog, toKmsError } from "./guard-backend.js";
import { parseKeyId } from "./key-id.js";
import * as lifecycleOps from "./key-lifecycle-operations.js";
import * as keys from "./key-operations.js";
import {
  hasConfiguredMasterKey,
  readConfiguredMasterKey,
  type SecretFileReader,
} from "./master-key.js";
import { createMutex } from "./mutex.js";
import { requireMasterKeySource, resolveConfig } from "./resolve-config.js";
import * as rotationOps from "./rotation-operations.js";
import { openRuntime, type Runtime } from "./runtime.js";
import type {
  BackendType,
  KmsConfig,
  KmsConfigPatch,
  KmsEngine,
  LifecycleResult,
  RekeyMasterInput,
  RekeyResult,
  ServiceStatus,
  StatusView,
} from "./types.js";

export type { EngineLog } from "./guard-backend.js";

/** EngineOptions configures createEngine. */
export interface EngineOptions {
  stateStore: StateStore;
  /** The backends this build has; the composition root supplies local and vault. */
  backends: Partial<Record<BackendType, BackendFactory>>;
  /** `<data-dir>/keys`, the local `key_dir` when the configuration names none. */
  defaultKeyDir: string;
  /** The clock; injectable for tests. */
  now?: () => Date;
  /** Where the engine logs. It never passes secrets or key material. */
  log?: EngineLog;
  /** The period of the background sweep (deletions, automatic rotations) while running, default 60 000 ms. */
  sweepIntervalMs?: number;
  /** Reads `master_key_file` at each start; without it such a configuration cannot start. */
  readSecretFile?: SecretFileReader;
  /** Where `master_key_env` is looked up at each start, default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Whether the cache's figures are exported as metrics (`cache_summary.enable_metrics`). */
  cacheMetricsExported?: boolean;
}

/** Engine is a KmsEngine that can also be asked to sweep due key deletions now. */
export interface Engine extends KmsEngine {
  /**
   * runDeletionSweep destroys every key whose deletion date has passed, after
   * any sweep in progress, and resolves to how many it destroyed. NOT_RUNNING
   * when the service is not running. The timer calls the same code.
   */
  runDeletionSweep(): Promise<number>;
  /**
   * runRotationSweep runs the same background sweep (deletions first) and
   * resolves to how many keys it rotated automatically: those Enabled keys
   * whose next rotation date has passed on the engine's clock.
   */
  runRotationSweep(): Promise<number>;
}

const NOT_RUNNING_MESSAGE = "KMS is not running";
const NOT_CONFIGURED_START = "KMS is not configured: no configuration provided";
/** Says what to do instead: the seed's "KMS already running" alone left callers guessing. */
const CONFIGURE_WHILE_RUNNING =
  "KMS already running: use reconfigure to change the running configuration (or stop first)";
const GENERATED_KEY_WARNING =
  "DEVELOPMENT SETTING: no master_key is configured, so the local backend uses a generated " +
  "master key kept in the 0600 state file of the data directory: anyone who can read that " +
  "file can read every key. Configure master_key (RUSTFS_KMS_LOCAL_MASTER_KEY) for real use.";

/**
 * createEngine builds the KMS engine from its persisted state: it restores the
 * configuration and, when the service was running, starts the backend (a
 * failure leaves the status Error instead of rejecting).
 */
export async function createEngine(options: EngineOptions): Promise<Engine> {
  const now = options.now ?? (() => new Date());
  const log: EngineLog = options.log ?? (() => {});
  const sweepIntervalMs = options.sweepIntervalMs ?? 60_000;
  const lifecycle = createMutex();

  let config: KmsConfig | null = null;
  let generatedMasterKey: string | null = null;
  let runtime: Runtime | null = null;
  let startFailed = false;
  let closed = false;

  async function save(state: PersistedState): Promise<void> {
    try {
      await options.stateStore.save(state);
    } catch (error) {
      throw toKmsError(error, "saveState", log);
    }
  }

  function needsGeneratedKey(candidate: KmsConfig): boolean {
    return candidate.backend.backendType === "local" && !hasConfiguredMasterKey(candidate.backend);
  }

  /** The generated master key a configuration would use: the kept one, else a new one. */
  function generatedKeyFor(candidate: KmsConfig): string | null {
    if (generatedMasterKey !== null || !needsGeneratedKey(candidate)) return generatedMasterKey;
    return randomBytes(32).toString("base64");
  }

  /**
   * A generated key must be durable before any keyring is sealed with it, or a
   * crash would leave key_dir locked to a key nobody kept. It is saved beside
   * the current config (which does not use it yet).
   */
  async function persistGeneratedKeyFor(
    candidate: KmsConfig,
    current: KmsConfig,
    running: boolean,
  ): Promise<void> {
    const key = generatedKeyFor(candidate);
    if (key === generatedMasterKey) return;
    await save({ config: current, running, generatedMasterKey: key });
    generatedMasterKey = key;
  }

  /** storeStopped saves and adopts a configuration while no backend runs. */
  async function storeStopped(next: KmsConfig): Promise<void> {
    const key = generatedKeyFor(next);
    await save({ config: next, running: false, generatedMasterKey: key });
    generatedMasterKey = key;
    config = next;
    startFailed = false;
  }

  /** saveRunning records `next` as running; if that fails, `candidate` is retired unused. */
  async function saveRunning(next: KmsConfig, candidate: Runtime): Promise<void> {
    try {
      await save({ config: next, running: true, generatedMasterKey });
    } catch (error) {
      await candidate.retire();
      throw error;
    }
  }

  async function masterKeyOf(candidate: KmsConfig): Promise<string> {
    if (candidate.backend.backendType === "local") {
      // master_key_file / master_key_env are read here, at every start, and never kept.
      const configured = await readConfiguredMasterKey(candidate.backend, {
        readFile: options.readSecretFile,
        env: options.env ?? process.env,
      });
      if (configured !== null) return configured;
    }
    if (generatedMasterKey === null) {
      // persistGeneratedKeyFor runs first for local; openFor asks only for local.
      throw new KmsError("BACKEND_ERROR", "no master key is available for this backend");
    }
    // Said at every start that uses it, so no restart hides it.
    if (candidate.backend.backendType === "local") log("warn", GENERATED_KEY_WARNING);
    return generatedMasterKey;
  }

  async function openFor(candidate: KmsConfig): Promise<Runtime> {
    const type = candidate.backend.backendType;
    const factory = options.backends[type];
    if (factory === undefined) {
      throw new KmsError("BACKEND_ERROR", `the ${type} backend is not available in this build`);
    }
    // Only the local backend seals material under a master key; Vault holds its own.
    const masterKey = type === "local" ? await masterKeyOf(candidate) : null;
    return openRuntime({ config: candidate, masterKey, factory, now, log });
  }

  function publish(next: Runtime): Promise<void> {
    const previous = runtime;
    runtime = next;
    startFailed = false;
    next.startSweeper(sweepIntervalMs);
    return previous === null ? Promise.resolve() : previous.retire();
  }

  function currentStatus(): ServiceStatus {
    if (runtime !== null) return runtime.healthy ? "Running" : "Error";
    if (startFailed) return "Error";
    return config === null ? "NotConfigured" : "Configured";
  }

  function assertOpen(): void {
    if (closed) throw new KmsError("NOT_RUNNING", "the KMS engine is closed");
  }

  /** Every public method rejects only with KmsError; anything else is logged and wrapped. */
  async function guarded<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw toKmsError(error, operation, log);
    }
  }

  function withKeys<T>(operation: string, fn: (ctx: keys.KeyContext) => Promise<T>): Promise<T> {
    return guarded(operation, async () => {
      const current = runtime;
      if (current === null) throw new KmsError("NOT_RUNNING", NOT_RUNNING_MESSAGE);
      return current.run((store) =>
        fn({ store, custody: current.custody, config: current.config, now, log }),
      );
    });
  }

  function lifecycleOp(
    operation: string,
    fn: () => Promise<LifecycleResult>,
  ): Promise<LifecycleResult> {
    return guarded(operation, () =>
      lifecycle.run(async () => {
        assertOpen();
        return fn();
      }),
    );
  }

  const engine: Engine = {
    configure: (patch: KmsConfigPatch, configureOptions) =>
      lifecycleOp("configure", async () => {
        if (runtime !== null) throw new KmsError("ALREADY_RUNNING", CONFIGURE_WHILE_RUNNING);
        if (configureOptions?.requireMasterKey) requireMasterKeySource(patch);
        const next = resolveConfig(patch, null, options.defaultKeyDir);
        await storeStopped(next);
        log("info", "KMS configured", { backendType: next.backend.backendType });
        return { success: true, message: "KMS configured successfully", status: "Configured" };
      }),

    reconfigure: (patch: KmsConfigPatch) =>
      lifecycleOp("reconfigure", async () => {
        const current = config;
        if (current === null) throw new KmsError("NOT_CONFIGURED", "KMS is not configured");
        const next = resolveConfig(patch, current, options.defaultKeyDir);
        if (runtime === null) {
          await storeStopped(next);
        } else {
          // Build and health-check the candidate first; on any failure the
          // running backend keeps serving and the stored config stays as it was.
          await persistGeneratedKeyFor(next, current, true);
          const candidate = await openFor(next);
          await saveRunning(next, candidate);
          config = next;
          await publish(candidate);
        }
        log("info", "KMS reconfigured", { backendType: next.backend.backendType });
        return {
          success: true,
          message: "KMS reconfigured successfully",
          status: runtime === null ? "Configured" : "Running",
        };
      }),

    start: (startOptions) =>
      lifecycleOp("start", async () => {
        const current = config;
        // RustFS clients match on "no configuration provided".
        if (current === null) throw new KmsError("NOT_CONFIGURED", NOT_CONFIGURED_START);
        // A runtime whose last health check failed may be restarted in place;
        // `force` restarts a healthy one too (the old runtime retires on publish).
        if (runtime?.healthy && startOptions?.force !== true) {
          throw new KmsError("ALREADY_RUNNING", "KMS already running");
        }
        const restarting = runtime !== null;
        let candidate: Runtime;
        try {
          await persistGeneratedKeyFor(current, current, runtime !== null);
          candidate = await openFor(current);
          await saveRunning(current, candidate);
        } catch (error) {
          if (runtime === null) startFailed = true;
          log("error", "KMS start failed", { error: describeFailure(error) });
          throw error;
        }
        await publish(candidate);
        log("info", restarting ? "KMS restarted" : "KMS started", {
          backendType: current.backend.backendType,
        });
        const message = restarting
          ? "KMS service restarted successfully"
          : "KMS service started successfully";
        return { success: true, message, status: "Running" };
      }),

    stop: () =>
      lifecycleOp("stop", async () => {
        if (config !== null) await save({ config, running: false, generatedMasterKey });
        const previous = runtime;
        runtime = null;
        startFailed = false;
        if (previous !== null) {
          await previous.retire();
          log("info", "KMS stopped");
        }
        return {
          success: true,
          message: "KMS service stopped successfully",
          status: config === null ? "NotConfigured" : "Configured",
        };
      }),

    async status(): Promise<StatusView> {
      const current = runtime;
      if (current !== null) {
        let healthy = true;
        try {
          await withDeadline(
            current.run((store) => store.health()),
            current.config.timeoutSeconds * 1000,
            "the health check",
          );
        } catch (error) {
          healthy = false;
          log("warn", "KMS health check failed", { error: describeFailure(error) });
        }
        current.healthy = healthy;
      }
      const status = currentStatus();
      return {
        status,
        backendType: config?.backend.backendType ?? null,
        healthy: status === "Running",
        configSummary: config === null ? null : configSummary(config, options.cacheMetricsExported),
        cacheStats: runtime === null ? null : runtime.cacheStats(),
      };
    },

    config: () => configView(config),

    clearCache(): void {
      runtime?.clearCache();
    },

    rekeyMaster: (input: RekeyMasterInput) =>
      guarded("rekeyMaster", () =>
        lifecycle.run(async (): Promise<RekeyResult> => {
          assertOpen();
          const current = config;
          const running = runtime;
          if (current === null || running === null) {
            throw new KmsError("NOT_RUNNING", NOT_RUNNING_MESSAGE);
          }
          if (current.backend.backendType !== "local") {
            throw new KmsError("INVALID_ARGUMENT", "rekey applies to the local backend only");
          }
          const { masterKey, masterKeyFile, masterKeyEnv } = input ?? {};
          if (masterKey == null && masterKeyFile == null && masterKeyEnv == null) {
            throw new KmsError(
              "INVALID_ARGUMENT",
              "one of master_key, master_key_file, master_key_env is required",
            );
          }
          const next = resolveConfig(
            { masterKey, masterKeyFile, masterKeyEnv },
            current,
            options.defaultKeyDir,
          );
          const newMasterKey = await masterKeyOf(next);
          const keysResealed = await running.rekey(newMasterKey, async () => {
            // The commit point: from here the stored configuration names the new key.
            await save({ config: next, running: true, generatedMasterKey: null });
            config = next;
            generatedMasterKey = null;
          });
          log("info", "master key changed", { keysResealed });
          return {
            success: true,
            message: `master key changed: ${keysResealed} keys resealed`,
            status: "Running",
            keysResealed,
          };
        }),
      ),

    createKey: (input) => withKeys("createKey", (ctx) => keys.createKey(ctx, input)),
    listKeys: (input) => withKeys("listKeys", (ctx) => keys.listKeys(ctx, input)),
    describeKey: (keyId) => withKeys("describeKey", (ctx) => keys.describeKey(ctx, keyId)),
    scheduleKeyDeletion: (keyId, days) =>
      withKeys("scheduleKeyDeletion", (ctx) => keys.scheduleKeyDeletion(ctx, keyId, days)),
    destroyKeyNow: (keyId) =>
      withKeys("destroyKeyNow", async (ctx) => {
        const id = parseKeyId(keyId);
        // Due now, then destroyed the way the sweep destroys an expired key, so
        // a crash in between leaves a key the next sweep destroys.
        const due = await ctx.store.update(id, (current) => ({
          ...current,
          keyState: "PendingDeletion",
          stateBeforeDeletion:
            current.keyState === "PendingDeletion" ? current.stateBeforeDeletion : current.keyState,
          deletionDate: ctx.now(),
        }));
        await ctx.store.destroyIfDue(id);
        return keys.toKeyMetadata(due);
      }),
    cancelKeyDeletion: (keyId) =>
      withKeys("cancelKeyDeletion", (ctx) => keys.cancelKeyDeletion(ctx, keyId)),
    generateDataKey: (input) =>
      withKeys("generateDataKey", (ctx) => cryptoOps.generateDataKey(ctx, input)),
    decrypt: (input) => withKeys("decrypt", (ctx) => cryptoOps.decrypt(ctx, input)),
    enableKey: (keyId) => withKeys("enableKey", (ctx) => lifecycleOps.enableKey(ctx, keyId)),
    disableKey: (keyId) => withKeys("disableKey", (ctx) => lifecycleOps.disableKey(ctx, keyId)),
    rotateKey: (keyId) => withKeys("rotateKey", (ctx) => lifecycleOps.rotateKey(ctx, keyId)),
    updateKeyDescription: (keyId, description) =>
      withKeys("updateKeyDescription", (ctx) =>
        lifecycleOps.updateKeyDescription(ctx, keyId, description),
      ),
    tagKey: (keyId, tags) => withKeys("tagKey", (ctx) => lifecycleOps.tagKey(ctx, keyId, tags)),
    untagKey: (keyId, tagKeys) =>
      withKeys("untagKey", (ctx) => lifecycleOps.untagKey(ctx, keyId, tagKeys)),
    generateDataKeyWithoutPlaintext: (input) =>
      withKeys("generateDataKeyWithoutPlaintext", (ctx) =>
        cryptoOps.generateDataKeyWithoutPlaintext(ctx, input),
      ),
    encrypt: (input) => withKeys("encrypt", (ctx) => cryptoOps.encrypt(ctx, input)),
    reEncrypt: (input) => withKeys("reEncrypt", (ctx) => cryptoOps.reEncrypt(ctx, input)),

    createAlias: (aliasName, targetKeyId) =>
      withKeys("createAlias", (ctx) => aliasOps.createAlias(ctx, aliasName, targetKeyId)),
    updateAlias: (aliasName, targetKeyId) =>
      withKeys("updateAlias", (ctx) => aliasOps.updateAlias(ctx, aliasName, targetKeyId)),
    deleteAlias: (aliasName) =>
      withKeys("deleteAlias", (ctx) => aliasOps.deleteAlias(ctx, aliasName)),
    listAliases: (input) => withKeys("listAliases", (ctx) => aliasOps.listAliases(ctx, input)),
    resolveAlias: (aliasName) =>
      withKeys("resolveAlias", (ctx) => aliasOps.resolveAlias(ctx, aliasName)),

    enableKeyRotation: (keyId, rotationPeriodInDays) =>
      withKeys("enableKeyRotation", (ctx) =>
        rotationOps.enableKeyRotation(ctx, keyId, rotationPeriodInDays),
      ),
    disableKeyRotation: (keyId) =>
      withKeys("disableKeyRotation", (ctx) => rotationOps.disableKeyRotation(ctx, keyId)),
    getKeyRotationStatus: (keyId) =>
      withKeys("getKeyRotationStatus", (ctx) => rotationOps.getKeyRotationStatus(ctx, keyId)),
    listKeyRotations: (keyId, input) =>
      withKeys("listKeyRotations", (ctx) => rotationOps.listKeyRotations(ctx, keyId, input)),

    runDeletionSweep: () =>
      guarded("runDeletionSweep", async () => {
        if (runtime === null) throw new KmsError("NOT_RUNNING", NOT_RUNNING_MESSAGE);
        return (await runtime.sweep()).destroyed;
      }),

    runRotationSweep: () =>
      guarded("runRotationSweep", async () => {
        if (runtime === null) throw new KmsError("NOT_RUNNING", NOT_RUNNING_MESSAGE);
        return (await runtime.sweep()).rotated;
      }),

    close: () =>
      guarded("close", () =>
        lifecycle.run(async () => {
          if (closed) return;
          closed = true;
          const previous = runtime;
          runtime = null;
          // The stored state keeps `running`, so the next process starts again.
          if (previous !== null) await previous.retire();
        }),
      ),
  };

  const stored = await guarded("loadState", () => options.stateStore.load());
  if (stored !== null) {
    config = stored.config;
    generatedMasterKey = stored.generatedMasterKey;
    if (stored.running) {
      try {
        await persistGeneratedKeyFor(stored.config, stored.config, true);
        await publish(await openFor(stored.config));
        log("info", "KMS started from the stored state", {
          backendType: stored.config.backend.backendType,
        });
      } catch (error) {
        startFailed = true;
        log("error", "KMS could not start from the stored state", {
          error: describeFailure(error),
        });
      }
    }
  }
  return engine;
}
