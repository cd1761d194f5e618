import { createStaticCredentialStore } from "../src/auth/credential-store.js";
import { createRootIdentity } from "../src/auth/identity.js";
import { createGateway } from "../src/server/gateway.js";

/** SeededDataDir describes a data directory prepared by seedKeys. */
export interface SeededDataDir {
  dataDir: string;
  /** The key the hot-path scenarios use (the first one created). */
  keyId: string;
  keyCount: number;
  /** Wall time of the seeding, for the report. */
  seconds: number;
}

/** How many createKey calls are in flight at once while seeding. */
const SEED_CONCURRENCY = 32;

/**
 * seedKeys configures the local backend (cache on) in `dataDir` and creates
 * `count` keys through the gateway's own engine, in this process, before any
 * gateway serves the directory: every key goes through the same createKey path
 * (fresh material, sealed, written atomically with fsync) as one created over
 * the API, without paying HTTP and SigV4 100,000 times. Key ids are
 * `bench-000000` … so pages and markers are reproducible.
 */
export async function seedKeys(dataDir: string, count: number): Promise<SeededDataDir> {
  const started = performance.now();
  const gateway = await createGateway({
    dataDir,
    credentials: createStaticCredentialStore([
      { identity: createRootIdentity("bench-seeder"), secretKey: "bench-seeder-unused" },
    ]),
    log: () => {},
  });
  try {
    const { engine } = gateway;
    await engine.configure({ backendType: "local", enableCache: true });
    const started2 = await engine.start();
    if (started2.status !== "Running") {
      throw new Error(`seeding: the engine did not start: ${started2.message}`);
    }
    let next = 0;
    const worker = async () => {
      while (next < count) {
        const i = next++;
        await engine.createKey({
          description: `bench key ${i}`,
          tags: { name: benchKeyId(i) },
        });
      }
    };
    await Promise.all(Array.from({ length: Math.min(SEED_CONCURRENCY, count) }, worker));
  } finally {
    await gateway.close();
  }
  return {
    dataDir,
    keyId: benchKeyId(0),
    keyCount: count,
    seconds: (performance.now() - started) / 1000,
  };
}

/** benchKeyId is the id of the i-th seeded key. */
export function benchKeyId(i: number): string {
  return `bench-${String(i).padStart(6, "0")}`;
}
