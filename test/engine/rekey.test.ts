import { describe, expect, it } from "vitest";
import type { BackendFactory, KeyBackend, StateStore } from "../../src/engine/backend.js";
import { createEngine, type Engine } from "../../src/engine/engine.js";
import { MASTER_KEY_MISMATCH_MESSAGE } from "../../src/engine/keyring.js";
import type { DataKey } from "../../src/engine/types.js";
import { expectKmsError } from "../helpers/expect-kms-error.js";
import { createMemoryBackends, type MemoryBackendStore } from "../helpers/memory-backend.js";
import { createMemoryStateStore, type MemoryStateStore } from "../helpers/memory-state-store.js";

// Rekey over memory backends. A "crash" is a process that stops writing after
// its n-th write (key puts, keyring writes and state saves alike) and is then
// abandoned; a new engine on the same stores is the restart.

const KEY_A = "first master passphrase a1";
const KEY_B = Buffer.alloc(32, 7).toString("base64");
const KEY_DIR = "/k";

interface World {
  backends: ReturnType<typeof createMemoryBackends>;
  state: MemoryStateStore;
  store: () => MemoryBackendStore;
}

/** engineOn builds an engine over the world; after `writesLeft` writes, every write fails. */
async function engineOn(world: World, writesLeft = Number.POSITIVE_INFINITY): Promise<Engine> {
  let left = writesLeft;
  const write = () => {
    if (left <= 0) throw new Error("crashed");
    left--;
  };
  const factory: BackendFactory = async (config) => {
    const backend = await world.backends.factory(config);
    const wrapped: KeyBackend = {
      ...backend,
      put: async (key) => {
        write();
        return backend.put(key);
      },
      writeKeyring: async (bytes) => {
        write();
        return backend.writeKeyring(bytes);
      },
    };
    return wrapped;
  };
  const stateStore: StateStore = {
    load: () => world.state.load(),
    save: async (s) => {
      write();
      return world.state.save(s);
    },
  };
  return createEngine({ stateStore, backends: { local: factory }, defaultKeyDir: "/d" });
}

function configuredKey(world: World): string {
  const backend = world.state.state?.config.backend;
  if (backend?.backendType !== "local" || backend.masterKey === null) throw new Error("no key");
  return backend.masterKey;
}

function keyringOf(world: World): Record<string, unknown> {
  return JSON.parse(Buffer.from(world.store().keyring as Uint8Array).toString("utf8"));
}

async function settled(world: World): Promise<void> {
  for (let i = 0; i < 500 && "rekey" in keyringOf(world); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  expect(keyringOf(world)).not.toHaveProperty("rekey");
}

async function expectAllOpen(engine: Engine, ids: string[], dataKeys: DataKey[]): Promise<void> {
  for (const id of ids) await engine.generateDataKey({ keyId: id });
  for (const dk of dataKeys) {
    expect((await engine.decrypt({ ciphertextBlob: dk.ciphertextBlob })).plaintextKey).toEqual(
      dk.plaintextKey,
    );
  }
}

async function seed(count: number): Promise<{ world: World; ids: string[]; dataKeys: DataKey[] }> {
  const backends = createMemoryBackends();
  const world: World = {
    backends,
    state: createMemoryStateStore(),
    store: () => backends.storeFor(KEY_DIR),
  };
  const engine = await engineOn(world);
  await engine.configure({ backendType: "local", keyDir: KEY_DIR, masterKey: KEY_A });
  await engine.start();
  const ids: string[] = [];
  const dataKeys: DataKey[] = [];
  for (let i = 0; i < count; i++) {
    const id = `key-${String(i).padStart(3, "0")}`;
    await engine.createKey({ tags: { name: id } });
    ids.push(id);
    if (i % 4 === 0) dataKeys.push(await engine.generateDataKey({ keyId: id }));
  }
  await engine.close();
  return { world, ids, dataKeys };
}

describe("rekeyMaster", () => {
  it("reseals every key under the new master key, which alone opens them afterwards", async () => {
    const { world, ids, dataKeys } = await seed(30);
    let engine = await engineOn(world);
    const result = await engine.rekeyMaster({ masterKey: KEY_B });
    expect(result).toEqual({
      success: true,
      message: "master key changed: 30 keys resealed",
      status: "Running",
      keysResealed: 30,
    });
    expect(keyringOf(world)).toEqual({ format: 1, kdf: "raw", check: expect.any(String) });
    await expectAllOpen(engine, ids, dataKeys);
    // A key made after the rekey, and everything else, opens after a restart.
    await engine.createKey({ tags: { name: "after" } });
    await engine.close();
    expect(world.state.state?.config.backend).toMatchObject({ masterKey: KEY_B });
    engine = await engineOn(world);
    expect((await engine.status()).status).toBe("Running");
    await expectAllOpen(engine, [...ids, "after"], dataKeys);
    // Once settled the old master key opens nothing.
    await expectKmsError(
      engine.reconfigure({ masterKey: KEY_A }),
      "CONFIG_CONFLICT",
      MASTER_KEY_MISMATCH_MESSAGE,
    );
    await expectKmsError(engine.rekeyMaster({}), "INVALID_ARGUMENT", /one of master_key/);
    await expectKmsError(
      engine.rekeyMaster({ masterKey: "a", masterKeyEnv: "B" }),
      "INVALID_ARGUMENT",
      /at most one of/,
    );
    await engine.stop();
    await expectKmsError(engine.rekeyMaster({ masterKey: KEY_A }), "NOT_RUNNING");
    await engine.close();
  });

  it("leaves every key openable when the process dies after any write, and the restart finishes or rolls back", async () => {
    const { world, ids, dataKeys } = await seed(24);
    // 24 keys: 1 keyring write to begin, up to 24 puts, 1 state save, 1 keyring write.
    for (const writes of [0, 1, 2, 13, 24, 25, 26, 27]) {
      const configured = configuredKey(world);
      const target = configured === KEY_A ? KEY_B : KEY_A;
      const doomed = await engineOn(world, writes);
      const outcome = await doomed.rekeyMaster({ masterKey: target }).then(
        () => "done",
        () => "crashed",
      );
      // The crashed process is abandoned, not closed: a new one opens the same data.
      const engine = await engineOn(world);
      expect((await engine.status()).status, `after ${writes} writes`).toBe("Running");
      await expectAllOpen(engine, ids, dataKeys);
      await settled(world);
      const now = configuredKey(world);
      // The new key is configured exactly when the commit (the state save) happened.
      expect(now).toBe(outcome === "done" || writes >= 26 ? target : configured);
      await expectAllOpen(engine, ids, dataKeys);
      await engine.close();
    }
  }, 120_000);
});
