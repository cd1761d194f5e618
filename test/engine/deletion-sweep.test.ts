import { existsSync, promises as fsp } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createFileStateStore } from "../../src/backends/local/file-state-store.js";
import { localBackendFactory } from "../../src/backends/local/local-backend.js";
import type { BackendFactory, KeyBackend } from "../../src/engine/backend.js";
import { FULL_SCAN_INTERVAL_MS } from "../../src/engine/deadline-index.js";
import { createEngine, type Engine } from "../../src/engine/engine.js";
import { expectKmsError } from "../helpers/expect-kms-error.js";
import { createMemoryBackends } from "../helpers/memory-backend.js";
import { createMemoryStateStore } from "../helpers/memory-state-store.js";
import { DAY_MS, KEY_DIR, LOCAL_CONFIG, MASTER_KEY } from "./engine-fixture.js";

// Issue 7, item 4: the deletion sweep, on an injected clock and an interval so
// long it never fires by itself (each sweep here is asked for explicitly).

const START = new Date("2025-03-01T12:00:00.000Z");
const HOUR_MS = 3_600_000;

describe("deletion sweep on the local backend (real files)", () => {
  const roots: string[] = [];
  const engines: Engine[] = [];
  afterEach(async () => {
    await Promise.all(engines.splice(0).map((e) => e.close()));
    await Promise.all(roots.splice(0).map((r) => fsp.rm(r, { recursive: true, force: true })));
  });

  it("destroys a 7-day key at its deadline and not before; destroyed stays destroyed across a restart", async () => {
    const root = await fsp.mkdtemp(join(tmpdir(), "kms-sweep-"));
    roots.push(root);
    const keyDir = join(root, "keys");
    let now = START;
    const open = async () => {
      const engine = await createEngine({
        stateStore: createFileStateStore(join(root, "kms-state.json")),
        backends: { local: localBackendFactory },
        defaultKeyDir: keyDir,
        now: () => new Date(now.getTime()),
        sweepIntervalMs: HOUR_MS,
      });
      engines.push(engine);
      return engine;
    };
    let engine = await open();
    await engine.configure({ backendType: "local", keyDir, masterKey: MASTER_KEY });
    await engine.start();
    await engine.createKey({ tags: { name: "doomed" } });
    await engine.createKey({ tags: { name: "kept" } });
    const old = await engine.generateDataKey({ keyId: "doomed", encryptionContext: { a: "1" } });
    const meta = await engine.scheduleKeyDeletion("doomed", 7);
    expect(meta.deletionDate?.getTime()).toBe(START.getTime() + 7 * DAY_MS);
    const file = join(keyDir, "doomed.key.json");

    // The deadline is stored in the key file: it survives a restart before it comes.
    await engine.close();
    engine = await open();
    now = new Date(START.getTime() + 7 * DAY_MS - 1);
    expect(await engine.runDeletionSweep()).toBe(0);
    expect(existsSync(file)).toBe(true);
    expect((await engine.describeKey("doomed")).keyState).toBe("PendingDeletion");

    now = new Date(START.getTime() + 7 * DAY_MS);
    expect(await engine.runDeletionSweep()).toBe(1);
    expect(existsSync(file)).toBe(false);
    await expectKmsError(engine.describeKey("doomed"), "KEY_NOT_FOUND");
    await expectKmsError(
      engine.decrypt({ ciphertextBlob: old.ciphertextBlob, encryptionContext: { a: "1" } }),
      "INVALID_CIPHERTEXT",
    );
    expect((await engine.describeKey("kept")).keyState).toBe("Enabled");

    // After a restart: still gone, still undecryptable, not listed.
    await engine.close();
    engine = await open();
    await expectKmsError(engine.describeKey("doomed"), "KEY_NOT_FOUND");
    await expectKmsError(engine.cancelKeyDeletion("doomed"), "KEY_NOT_FOUND");
    await expectKmsError(
      engine.decrypt({ ciphertextBlob: old.ciphertextBlob, encryptionContext: { a: "1" } }),
      "INVALID_CIPHERTEXT",
    );
    expect((await engine.listKeys({})).keys.map((k) => k.keyId)).toEqual(["kept"]);

    // The name can be used again: a new key, under which the old blob still never opens.
    await engine.createKey({ tags: { name: "doomed" } });
    await expectKmsError(
      engine.decrypt({ ciphertextBlob: old.ciphertextBlob, encryptionContext: { a: "1" } }),
      "INVALID_CIPHERTEXT",
    );
    const fresh = await engine.generateDataKey({ keyId: "doomed" });
    expect(
      Buffer.from((await engine.decrypt({ ciphertextBlob: fresh.ciphertextBlob })).plaintextKey),
    ).toEqual(Buffer.from(fresh.plaintextKey));
  });
});

/** gatedBackends wraps memory backends so a test can hold a sweep between its read and its removal. */
function gatedBackends() {
  const backends = createMemoryBackends();
  const gates: { list: Promise<void> | null; get: Promise<void> | null } = {
    list: null,
    get: null,
  };
  const factory: BackendFactory = async (config) => {
    const inner = await backends.factory(config);
    const gated: KeyBackend = {
      ...inner,
      async list(after, limit) {
        const page = await inner.list(after, limit);
        if (gates.list !== null) await gates.list;
        return page;
      },
      async get(keyId) {
        const key = await inner.get(keyId);
        if (gates.get !== null) await gates.get;
        return key;
      },
    };
    return gated;
  };
  return { backends, factory, gates };
}

async function memoryEngine(factory: BackendFactory, clock: { now: Date }): Promise<Engine> {
  const engine = await createEngine({
    stateStore: createMemoryStateStore(),
    backends: { local: factory },
    defaultKeyDir: KEY_DIR,
    now: () => new Date(clock.now.getTime()),
    sweepIntervalMs: HOUR_MS,
  });
  await engine.configure({ ...LOCAL_CONFIG, enableCache: false });
  await engine.start();
  return engine;
}

function gate(): { promise: Promise<void>; open: () => void } {
  let open: () => void = () => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

describe("deletion sweep races", () => {
  it("a key cancelled after the sweep listed it, before its removal, survives", async () => {
    const { factory, gates, backends } = gatedBackends();
    const clock = { now: START };
    const engine = await memoryEngine(factory, clock);
    try {
      await engine.runDeletionSweep(); // the start-up sweep, out of the way
      await engine.createKey({ tags: { name: "k" } });
      await engine.createKey({ tags: { name: "other" } });
      await engine.scheduleKeyDeletion("k", 7);
      // A full scan (due again an hour on) is held after it listed the page.
      clock.now = new Date(START.getTime() + FULL_SCAN_INTERVAL_MS);
      const held = gate();
      gates.list = held.promise;
      const sweep = engine.runDeletionSweep();
      await vi.waitFor(() => expect(backends.storeFor(KEY_DIR).calls.get("list")).toBe(2));
      gates.list = null;
      // Cancelled in time, while the sweep holds its stale listing...
      expect((await engine.cancelKeyDeletion("k")).keyState).toBe("Enabled");
      // ...which it acts on only after the old deadline has passed.
      clock.now = new Date(START.getTime() + 8 * DAY_MS);
      held.open();
      expect(await sweep).toBe(0);
      expect((await engine.describeKey("k")).keyState).toBe("Enabled");
      expect(backends.storeFor(KEY_DIR).keys.has("k")).toBe(true);
    } finally {
      await engine.close();
    }
  });

  it("a cancel that arrives while the sweep destroys a due key gets 404, never a key that is then destroyed", async () => {
    const { factory, gates, backends } = gatedBackends();
    const clock = { now: START };
    const engine = await memoryEngine(factory, clock);
    try {
      await engine.runDeletionSweep();
      await engine.createKey({ tags: { name: "k" } });
      await engine.scheduleKeyDeletion("k", 7);
      clock.now = new Date(START.getTime() + 7 * DAY_MS);
      // The sweep holds right after reading "k" (under the key's lock).
      const held = gate();
      gates.get = held.promise;
      const store = backends.storeFor(KEY_DIR);
      const getsBefore = store.calls.get("get") ?? 0;
      const sweep = engine.runDeletionSweep();
      await vi.waitFor(() => expect(store.calls.get("get")).toBe(getsBefore + 1));
      const cancel = engine.cancelKeyDeletion("k");
      gates.get = null;
      held.open();
      expect(await sweep).toBe(1);
      await expectKmsError(cancel, "KEY_NOT_FOUND");
      expect(store.keys.has("k")).toBe(false);
    } finally {
      await engine.close();
    }
  });
});

describe("deletion sweep cost", () => {
  it("between full scans a sweep reads only the keys due, not every key", async () => {
    const backends = createMemoryBackends();
    const clock = { now: START };
    const engine = await memoryEngine(backends.factory, clock);
    try {
      await engine.runDeletionSweep();
      const ids = Array.from({ length: 150 }, (_, i) => `k${String(i).padStart(3, "0")}`);
      for (const id of ids) await engine.createKey({ tags: { name: id } });
      await engine.scheduleKeyDeletion("k007", 7);
      clock.now = new Date(START.getTime() + 10 * 60_000);
      await engine.scheduleKeyDeletion("k100", 7); // due ten minutes after k007
      const store = backends.storeFor(KEY_DIR);
      store.calls.clear();
      // Within the hour after the start-up scan: nothing is due, nothing is read.
      expect(await engine.runDeletionSweep()).toBe(0);
      expect(store.calls.get("get") ?? 0).toBe(0);
      expect(store.calls.get("list") ?? 0).toBe(0);
      clock.now = new Date(START.getTime() + 7 * DAY_MS);
      // Over an hour since the last full scan: this one reads every key once.
      expect(await engine.runDeletionSweep()).toBe(1);
      expect(store.calls.get("get")).toBe(150);
      store.calls.clear();
      clock.now = new Date(START.getTime() + 7 * DAY_MS + 10 * 60_000);
      // Within the hour after it, only the due key is read.
      expect(await engine.runDeletionSweep()).toBe(1);
      expect(store.calls.get("get")).toBe(1);
      expect(store.calls.get("list") ?? 0).toBe(0);
      expect(store.keys.has("k007")).toBe(false);
      expect(store.keys.has("k100")).toBe(false);
      expect(store.keys.size).toBe(148);
    } finally {
      await engine.close();
    }
  });
});
