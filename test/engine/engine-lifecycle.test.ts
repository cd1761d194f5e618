import { describe, expect, it } from "vitest";
import { createEngine } from "../../src/engine/engine.js";
import { KmsError } from "../../src/engine/errors.js";
import { MASTER_KEY_MISMATCH_MESSAGE } from "../../src/engine/keyring.js";
import { createMemoryBackends } from "../helpers/memory-backend.js";
import { createMemoryStateStore } from "../helpers/memory-state-store.js";
import {
  createFixture,
  DEFAULT_KEY_DIR,
  expectKmsError,
  KEY_DIR,
  LOCAL_CONFIG,
  MASTER_KEY,
} from "./engine-fixture.js";

describe("engine lifecycle", () => {
  it("goes NotConfigured → Configured → Running → Configured with the seed's messages", async () => {
    const f = await createFixture({ configure: null });
    const { engine } = f;
    expect(await engine.status()).toEqual({
      status: "NotConfigured",
      backendType: null,
      healthy: false,
      configSummary: null,
      cacheStats: null,
    });
    expect(await engine.configure(LOCAL_CONFIG)).toEqual({
      success: true,
      message: "KMS configured successfully",
      status: "Configured",
    });
    expect((await engine.status()).status).toBe("Configured");
    expect(await engine.start()).toEqual({
      success: true,
      message: "KMS service started successfully",
      status: "Running",
    });
    expect(await engine.status()).toMatchObject({
      status: "Running",
      backendType: "local",
      healthy: true,
    });
    expect(await engine.stop()).toEqual({
      success: true,
      message: "KMS service stopped successfully",
      status: "Configured",
    });
    expect(await engine.status()).toMatchObject({ status: "Configured", healthy: false });
    // Stop is idempotent.
    expect(await engine.stop()).toMatchObject({ success: true, status: "Configured" });
  });

  it("stop with nothing configured succeeds and stays NotConfigured", async () => {
    const { engine } = await createFixture({ configure: null });
    expect(await engine.stop()).toEqual({
      success: true,
      message: "KMS service stopped successfully",
      status: "NotConfigured",
    });
  });

  it("refuses configure and start while running, start and reconfigure with nothing configured", async () => {
    const running = await createFixture();
    await expectKmsError(
      running.engine.configure(LOCAL_CONFIG),
      "ALREADY_RUNNING",
      /^KMS already running: use reconfigure to change the running configuration/,
    );
    await expectKmsError(running.engine.start(), "ALREADY_RUNNING", "KMS already running");
    expect((await running.engine.status()).status).toBe("Running");

    const empty = await createFixture({ configure: null });
    await expectKmsError(empty.engine.start(), "NOT_CONFIGURED");
    await expectKmsError(empty.engine.reconfigure({ cacheTtlSeconds: 10 }), "NOT_CONFIGURED");
    expect((await empty.engine.status()).status).toBe("NotConfigured");
  });

  it("answers NOT_RUNNING to every key operation unless running", async () => {
    const { engine } = await createFixture({ start: false });
    const blob = new Uint8Array(64);
    const calls: Promise<unknown>[] = [
      engine.createKey({}),
      engine.listKeys({}),
      engine.describeKey("k"),
      engine.scheduleKeyDeletion("k"),
      engine.cancelKeyDeletion("k"),
      engine.generateDataKey({ keyId: "k" }),
      engine.decrypt({ ciphertextBlob: blob }),
      engine.runDeletionSweep(),
    ];
    for (const call of calls) await expectKmsError(call, "NOT_RUNNING");
  });

  it("configure may replace a stopped configuration; invalid input changes nothing", async () => {
    const { engine, stateStore } = await createFixture({ start: false });
    const saves = stateStore.saves.length;
    await expectKmsError(
      engine.configure({ backendType: "s3" }),
      "INVALID_ARGUMENT",
      /backend_type/,
    );
    await expectKmsError(engine.configure({}), "INVALID_ARGUMENT", /backend_type is required/);
    expect(stateStore.saves.length).toBe(saves);
    await engine.configure({ ...LOCAL_CONFIG, defaultKeyId: "other" });
    expect(engine.config().defaultKeyId).toBe("other");
  });

  it("persists config and running flag on configure, start, stop and reconfigure", async () => {
    const { engine, stateStore } = await createFixture({ configure: null });
    await engine.configure(LOCAL_CONFIG);
    expect(stateStore.state).toMatchObject({ running: false, generatedMasterKey: null });
    expect(stateStore.state?.config.backend).toEqual({
      backendType: "local",
      keyDir: KEY_DIR,
      masterKey: MASTER_KEY,
    });
    await engine.start();
    expect(stateStore.state?.running).toBe(true);
    await engine.reconfigure({ cacheTtlSeconds: 42 });
    expect(stateStore.state).toMatchObject({ running: true, config: { cacheTtlSeconds: 42 } });
    await engine.stop();
    expect(stateStore.state?.running).toBe(false);
    expect(stateStore.saves.length).toBe(4);
  });

  it("shows status and config summaries without secrets", async () => {
    const { engine } = await createFixture();
    const status = await engine.status();
    expect(status.configSummary).toEqual({
      backendType: "local",
      defaultKeyId: null,
      timeoutSeconds: 30,
      retryAttempts: 3,
      enableCache: true,
      cacheSummary: { maxKeys: 1024, ttlSeconds: 300, enableMetrics: false },
      backendSummary: { backendType: "local", keyDir: KEY_DIR, hasMasterKey: true },
    });
    expect(engine.config()).toEqual({
      backend: "local",
      cacheEnabled: true,
      cacheMaxKeys: 1024,
      cacheTtlSeconds: 300,
      defaultKeyId: null,
    });
  });

  it("reports Error with healthy false when a health check fails, and Running once it passes", async () => {
    const { engine, backends } = await createFixture();
    const store = backends.storeFor(KEY_DIR);
    store.healthy = false;
    expect(await engine.status()).toMatchObject({ status: "Error", healthy: false });
    store.healthy = true;
    expect(await engine.status()).toMatchObject({ status: "Running", healthy: true });
  });

  it("start can restart a runtime whose health check failed, logging the failure once", async () => {
    const { engine, backends, logs } = await createFixture();
    const store = backends.storeFor(KEY_DIR);
    store.healthy = false;
    await engine.status();
    logs.length = 0;
    await expectKmsError(engine.start(), "BACKEND_ERROR");
    expect(logs).toEqual([
      {
        level: "error",
        message: "KMS start failed",
        fields: { error: "memory backend is unhealthy" },
      },
    ]);
    expect((await engine.status()).status).toBe("Error");
    store.healthy = true;
    expect(await engine.start()).toMatchObject({ success: true, status: "Running" });
  });

  it("a failing start leaves status Error and rejects with a safe BACKEND_ERROR", async () => {
    const { engine, backends } = await createFixture({ start: false });
    backends.storeFor(KEY_DIR).failing.add("health");
    await expectKmsError(engine.start(), "BACKEND_ERROR", /^backend failure$/);
    expect(await engine.status()).toMatchObject({ status: "Error", healthy: false });
    backends.storeFor(KEY_DIR).failing.clear();
    await engine.start();
    expect((await engine.status()).status).toBe("Running");
  });

  it("a start whose state cannot be saved fails and closes the candidate", async () => {
    const { engine, stateStore, backends } = await createFixture({ start: false });
    stateStore.failSaves = true;
    await expectKmsError(engine.start(), "BACKEND_ERROR", /^backend failure$/);
    const store = backends.storeFor(KEY_DIR);
    expect(store.closed).toBe(store.opened);
    expect((await engine.status()).status).toBe("Error");
  });

  it("closes the backend on stop", async () => {
    const { engine, backends } = await createFixture();
    const store = backends.storeFor(KEY_DIR);
    expect(store.opened - store.closed).toBe(1);
    await engine.stop();
    expect(store.opened - store.closed).toBe(0);
  });

  it("serialises lifecycle calls: concurrent starts give one success and one ALREADY_RUNNING", async () => {
    const { engine, backends } = await createFixture({ start: false });
    const results = await Promise.allSettled([engine.start(), engine.start(), engine.stop()]);
    expect(results[0]).toMatchObject({ status: "fulfilled" });
    expect(results[1]).toMatchObject({ status: "rejected", reason: { code: "ALREADY_RUNNING" } });
    expect(results[2]).toMatchObject({ status: "fulfilled", value: { status: "Configured" } });
    const store = backends.storeFor(KEY_DIR);
    expect(store.opened).toBe(1);
    expect(store.closed).toBe(1);
  });

  it("lets key operations in flight finish before closing the backend on stop", async () => {
    const backends = createMemoryBackends();
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let gated = false;
    const engine = await createEngine({
      stateStore: createMemoryStateStore(),
      defaultKeyDir: DEFAULT_KEY_DIR,
      backends: {
        local: async (config) => {
          const backend = await backends.factory(config);
          return {
            ...backend,
            get: async (keyId) => {
              if (gated) await gate;
              return backend.get(keyId);
            },
          };
        },
      },
    });
    await engine.configure({ ...LOCAL_CONFIG, enableCache: false });
    await engine.start();
    await engine.createKey({ tags: { name: "k" } });
    gated = true;
    const pending = engine.describeKey("k");
    const stopped = engine.stop();
    // Let stop run as far as it can while the read is held.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const store = backends.storeFor(KEY_DIR);
    expect(store.closed).toBe(0);
    release();
    expect((await pending).keyId).toBe("k");
    await stopped;
    expect(store.closed).toBe(1);
    await expectKmsError(engine.describeKey("k"), "NOT_RUNNING");
  });

  it("is unusable after close", async () => {
    const { engine } = await createFixture();
    await engine.close();
    await engine.close();
    await expectKmsError(engine.start(), "NOT_RUNNING");
    await expectKmsError(engine.describeKey("k"), "NOT_RUNNING");
  });
});

describe("vault without a vault backend in this build", () => {
  it("stores a valid vault config, summarises it, and fails start with status Error", async () => {
    const { engine } = await createFixture({ configure: null });
    const result = await engine.configure({
      backendType: "VaultTransit",
      address: "https://vault.example.com:8200",
      authMethod: { token: "hvs.SECRET-TOKEN-value" },
      defaultKeyId: "rustfs-master",
      cacheTtlSeconds: 600,
    });
    expect(result).toEqual({
      success: true,
      message: "KMS configured successfully",
      status: "Configured",
    });
    const status = await engine.status();
    expect(status).toMatchObject({ status: "Configured", backendType: "vault" });
    expect(status.configSummary?.backendSummary).toEqual({
      backendType: "vault",
      address: "https://vault.example.com:8200",
      authMethodType: "token",
      namespace: null,
      mountPath: "transit",
      kvMount: "secret",
      keyPathPrefix: "rustfs/kms/keys",
    });
    await expectKmsError(
      engine.start(),
      "BACKEND_ERROR",
      /^the vault backend is not available in this build$/,
    );
    expect(await engine.status()).toMatchObject({ status: "Error", healthy: false });
    expect(await engine.stop()).toMatchObject({ status: "Configured" });
  });

  it("reconfigure from running local to vault fails and keeps local serving", async () => {
    const { engine, stateStore } = await createFixture();
    await engine.createKey({ tags: { name: "k" } });
    const before = stateStore.state;
    await expectKmsError(
      engine.reconfigure({
        backendType: "vault",
        address: "http://127.0.0.1:8200",
        authMethod: { approle: { roleId: "role", secretId: "secret-id-value" } },
      }),
      "BACKEND_ERROR",
      /vault backend is not available/,
    );
    expect(stateStore.state).toEqual(before);
    expect(await engine.status()).toMatchObject({ status: "Running", backendType: "local" });
    expect((await engine.describeKey("k")).keyState).toBe("Enabled");
  });
});

describe("reconfigure", () => {
  it("with a master key that does not open the keys is the caller's conflict; the old one serves", async () => {
    const f = await createFixture();
    await f.engine.createKey({ tags: { name: "k" } });
    const { ciphertextBlob } = await f.engine.generateDataKey({ keyId: "k" });
    await expectKmsError(
      f.engine.reconfigure({ masterKey: "not-the-master-key-of-these-keys" }),
      "CONFIG_CONFLICT",
      MASTER_KEY_MISMATCH_MESSAGE,
    );
    expect((await f.engine.status()).status).toBe("Running");
    expect((await f.engine.decrypt({ ciphertextBlob })).keyId).toBe("k");
    const stored = f.stateStore.state?.config.backend;
    expect(stored?.backendType === "local" && stored.masterKey).toBe(MASTER_KEY);
  });

  it("merges present fields only: changing cache_ttl_seconds keeps everything else", async () => {
    const { engine, stateStore } = await createFixture({
      configure: { ...LOCAL_CONFIG, defaultKeyId: "dk", maxCachedKeys: 77, retryAttempts: 5 },
    });
    const before = stateStore.state?.config;
    expect(await engine.reconfigure({ cacheTtlSeconds: 900 })).toEqual({
      success: true,
      message: "KMS reconfigured successfully",
      status: "Running",
    });
    expect(stateStore.state?.config).toEqual({ ...before, cacheTtlSeconds: 900 });
    expect(engine.config()).toMatchObject({ cacheTtlSeconds: 900, cacheMaxKeys: 77 });
  });

  it("while stopped it stores the merge and stays Configured", async () => {
    const { engine, backends } = await createFixture({ start: false });
    expect(await engine.reconfigure({ keyDir: "/other/keys" })).toEqual({
      success: true,
      message: "KMS reconfigured successfully",
      status: "Configured",
    });
    expect((await engine.status()).configSummary?.backendSummary).toEqual({
      backendType: "local",
      keyDir: "/other/keys",
      hasMasterKey: true,
    });
    expect(backends.configs).toHaveLength(0);
  });

  it("while running swaps in a healthy candidate backend and closes the old one", async () => {
    const { engine, backends } = await createFixture();
    await engine.createKey({ tags: { name: "on-old" } });
    await engine.reconfigure({ keyDir: "/new/keys" });
    expect(backends.storeFor(KEY_DIR).closed).toBe(1);
    await expectKmsError(engine.describeKey("on-old"), "KEY_NOT_FOUND");
    await engine.createKey({ tags: { name: "on-new" } });
    expect(backends.storeFor("/new/keys").keys.has("on-new")).toBe(true);
  });

  it("rolls back when the candidate is unhealthy: old backend serves, stored config unchanged", async () => {
    const { engine, backends, stateStore } = await createFixture();
    await engine.createKey({ tags: { name: "k" } });
    const { plaintextKey, ciphertextBlob } = await engine.generateDataKey({ keyId: "k" });
    backends.storeFor("/broken/keys").healthy = false;
    const before = stateStore.state;
    await expectKmsError(engine.reconfigure({ keyDir: "/broken/keys" }), "BACKEND_ERROR");
    expect(stateStore.state).toEqual(before);
    expect(await engine.status()).toMatchObject({ status: "Running", healthy: true });
    expect((await engine.status()).configSummary?.backendSummary).toMatchObject({
      keyDir: KEY_DIR,
    });
    expect((await engine.decrypt({ ciphertextBlob })).plaintextKey).toEqual(plaintextKey);
    const broken = backends.storeFor("/broken/keys");
    expect(broken.closed).toBe(broken.opened);
  });

  it("rolls back when the factory throws", async () => {
    const backends = createMemoryBackends();
    const stateStore = createMemoryStateStore();
    let fail = false;
    const engine = await createEngine({
      stateStore,
      defaultKeyDir: DEFAULT_KEY_DIR,
      backends: {
        local: async (config) => {
          if (fail) throw new Error("cannot open /secret/path");
          return backends.factory(config);
        },
      },
    });
    await engine.configure(LOCAL_CONFIG);
    await engine.start();
    fail = true;
    await expectKmsError(
      engine.reconfigure({ keyDir: "/x" }),
      "BACKEND_ERROR",
      /^backend failure$/,
    );
    expect(engine.config()).toMatchObject({ backend: "local" });
    expect((await engine.status()).status).toBe("Running");
    await engine.close();
  });

  it("rejects invalid merges with INVALID_ARGUMENT and leaves the config alone", async () => {
    const { engine, stateStore } = await createFixture();
    const before = stateStore.state;
    await expectKmsError(
      engine.reconfigure({ keyDir: "relative/dir" }),
      "INVALID_ARGUMENT",
      /key_dir/,
    );
    await expectKmsError(
      engine.reconfigure({ address: "https://v" }),
      "INVALID_ARGUMENT",
      /address/,
    );
    await expectKmsError(
      engine.reconfigure({ backendType: "vault" }),
      "INVALID_ARGUMENT",
      /address/,
    );
    expect(stateStore.state).toEqual(before);
  });

  it("switching backend starts from that backend's defaults and keeps common fields", async () => {
    const { engine, stateStore } = await createFixture({
      configure: { ...LOCAL_CONFIG, cacheTtlSeconds: 120 },
      start: false,
    });
    await engine.reconfigure({
      backendType: "vault",
      address: "https://vault:8200",
      authMethod: { token: "tok" },
    });
    await engine.reconfigure({ backendType: "local" });
    expect(stateStore.state?.config).toMatchObject({
      cacheTtlSeconds: 120,
      backend: { backendType: "local", keyDir: DEFAULT_KEY_DIR, masterKey: null },
    });
  });
});

describe("restart", () => {
  it("restores status, keys and old data keys on a new engine", async () => {
    const f = await createFixture({ configure: { ...LOCAL_CONFIG, defaultKeyId: "main" } });
    await f.engine.createKey({ description: "d", tags: { name: "main" } });
    const context = { bucket: "b" };
    const dataKey = await f.engine.generateDataKey({ encryptionContext: context });
    const engine = await f.reopen();
    expect(await engine.status()).toMatchObject({ status: "Running", healthy: true });
    expect(await engine.describeKey("main")).toMatchObject({
      description: "d",
      keyState: "Enabled",
    });
    const decrypted = await engine.decrypt({
      ciphertextBlob: dataKey.ciphertextBlob,
      encryptionContext: context,
    });
    expect(decrypted).toEqual({ keyId: "main", plaintextKey: dataKey.plaintextKey });
  });

  it("restores a stopped configuration as Configured", async () => {
    const f = await createFixture();
    await f.engine.stop();
    const engine = await f.reopen();
    expect((await engine.status()).status).toBe("Configured");
  });

  it("a wrong master key fails start clearly, before any key operation", async () => {
    const f = await createFixture();
    await f.engine.createKey({ tags: { name: "k" } });
    await f.engine.stop();
    await f.engine.reconfigure({ masterKey: "a-different-master-key" });
    await expectKmsError(f.engine.start(), "CONFIG_CONFLICT", MASTER_KEY_MISMATCH_MESSAGE);
    expect((await f.engine.status()).status).toBe("Error");
  });

  it("a restart with a wrong master key comes up in Error and start says why", async () => {
    const f = await createFixture();
    await f.engine.createKey({ tags: { name: "k" } });
    await f.engine.close();
    const state = f.stateStore.state;
    if (state === null || state.config.backend.backendType !== "local") throw new Error("no state");
    const tampered = createMemoryStateStore({
      ...state,
      config: { ...state.config, backend: { ...state.config.backend, masterKey: "wrong-key" } },
    });
    const logs: string[] = [];
    const engine = await createEngine({
      stateStore: tampered,
      backends: { local: f.backends.factory },
      defaultKeyDir: DEFAULT_KEY_DIR,
      log: (_level, message, fields) => logs.push(`${message} ${JSON.stringify(fields)}`),
    });
    expect(await engine.status()).toMatchObject({ status: "Error", healthy: false });
    expect(logs.join("\n")).toContain(MASTER_KEY_MISMATCH_MESSAGE);
    await expectKmsError(engine.start(), "CONFIG_CONFLICT", MASTER_KEY_MISMATCH_MESSAGE);
    await engine.close();
  });

  it("a restart whose backend fails to start leaves status Error instead of throwing", async () => {
    const f = await createFixture();
    f.backends.storeFor(KEY_DIR).healthy = false;
    const engine = await f.reopen();
    expect(await engine.status()).toMatchObject({ status: "Error", healthy: false });
    expect(f.logs.some((l) => l.level === "error" && /stored state/.test(l.message))).toBe(true);
    f.backends.storeFor(KEY_DIR).healthy = true;
    await engine.start();
    expect((await engine.status()).status).toBe("Running");
  });

  it("generates a master key once when none is configured, keeps it, and warns", async () => {
    const f = await createFixture({ configure: { backendType: "local", keyDir: KEY_DIR } });
    const generated = f.stateStore.state?.generatedMasterKey;
    expect(generated).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(generated as string, "base64")).toHaveLength(32);
    expect(f.logs.some((l) => l.level === "warn" && /DEVELOPMENT SETTING/.test(l.message))).toBe(
      true,
    );
    expect((await f.engine.status()).configSummary?.backendSummary).toMatchObject({
      hasMasterKey: false,
    });
    const dataKey = await f.engine
      .createKey({ tags: { name: "k" } })
      .then(() => f.engine.generateDataKey({ keyId: "k" }));
    const engine = await f.reopen();
    expect(f.stateStore.state?.generatedMasterKey).toBe(generated);
    expect((await engine.decrypt({ ciphertextBlob: dataKey.ciphertextBlob })).plaintextKey).toEqual(
      dataKey.plaintextKey,
    );
    // Reconfiguring keeps the generated key rather than making a new one.
    await engine.stop();
    await engine.reconfigure({ cacheTtlSeconds: 5 });
    expect(f.stateStore.state?.generatedMasterKey).toBe(generated);
  });

  it("never rejects with anything but KmsError when the state store fails", async () => {
    const engine = await createEngine({
      stateStore: {
        load: async () => null,
        save: async () => {
          throw new TypeError("disk on fire");
        },
      },
      backends: {},
      defaultKeyDir: DEFAULT_KEY_DIR,
    });
    const error = await engine.configure(LOCAL_CONFIG).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KmsError);
    expect(error).toMatchObject({ code: "BACKEND_ERROR", message: "backend failure" });
    expect((await engine.status()).status).toBe("NotConfigured");
  });
});
