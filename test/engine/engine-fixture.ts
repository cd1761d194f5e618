import type { StoredKey } from "../../src/engine/backend.js";
import { createEngine, type Engine } from "../../src/engine/engine.js";
import type { KmsConfigPatch } from "../../src/engine/types.js";
import { expectKmsError } from "../helpers/expect-kms-error.js";
import { createMemoryBackends, type MemoryBackends } from "../helpers/memory-backend.js";
import { createMemoryStateStore, type MemoryStateStore } from "../helpers/memory-state-store.js";

export const KEY_DIR = "/srv/kms/keys";
export const DEFAULT_KEY_DIR = "/var/lib/kms-gateway/keys";
export const MASTER_KEY = "master-key-Zq8vTn3xW1pL6rYb";
export const LOCAL_CONFIG: KmsConfigPatch = {
  backendType: "local",
  keyDir: KEY_DIR,
  masterKey: MASTER_KEY,
};
export const DAY_MS = 86_400_000;

export interface LogLine {
  level: string;
  message: string;
  fields?: Record<string, unknown>;
}

/** EngineFixture is an engine over memory backends and a memory state store, with a settable clock. */
export interface EngineFixture {
  engine: Engine;
  backends: MemoryBackends;
  stateStore: MemoryStateStore;
  logs: LogLine[];
  /** now is the injected clock's current time; set it to move time. */
  now: Date;
  /** reopen closes the engine and builds a new one on the same state store and backends. */
  reopen(): Promise<Engine>;
}

/** createFixture builds an engine; by default configured with LOCAL_CONFIG and started. */
export async function createFixture(
  options: { configure?: KmsConfigPatch | null; start?: boolean } = {},
): Promise<EngineFixture> {
  const backends = createMemoryBackends();
  const stateStore = createMemoryStateStore();
  const logs: LogLine[] = [];
  const fixture: EngineFixture = {
    engine: undefined as unknown as Engine,
    backends,
    stateStore,
    logs,
    now: new Date("2025-03-01T12:00:00.000Z"),
    async reopen() {
      await fixture.engine.close();
      fixture.engine = await build();
      return fixture.engine;
    },
  };
  const build = () =>
    createEngine({
      stateStore,
      backends: { local: backends.factory },
      defaultKeyDir: DEFAULT_KEY_DIR,
      now: () => new Date(fixture.now.getTime()),
      log: (level, message, fields) => {
        logs.push(fields === undefined ? { level, message } : { level, message, fields });
      },
      sweepIntervalMs: 3_600_000,
    });
  fixture.engine = await build();
  const configure = options.configure === undefined ? LOCAL_CONFIG : options.configure;
  if (configure !== null) {
    await fixture.engine.configure(configure);
    if (options.start !== false) await fixture.engine.start();
  }
  return fixture;
}

export { expectKmsError };

/** storedKey is a minimal Enabled key record with one version of placeholder sealed material. */
export function storedKey(keyId: string, at: Date = new Date(0)): StoredKey {
  return {
    keyId,
    description: null,
    keyState: "Enabled",
    stateBeforeDeletion: null,
    creationDate: at,
    deletionDate: null,
    tags: {},
    versions: [{ version: 1, sealedMaterial: new Uint8Array(61), createdAt: at }],
  };
}
