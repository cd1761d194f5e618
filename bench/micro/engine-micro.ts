import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createStaticCredentialStore } from "../../src/auth/credential-store.js";
import { createRootIdentity } from "../../src/auth/identity.js";
import { createGateway } from "../../src/server/gateway.js";
import type { MicroBench } from "./micro-bench.js";

/**
 * engineMicro times the engine's data-key path through its public interface:
 * generateDataKey and decrypt on a local-backend key whose material is cached
 * (the gateway's composition, without HTTP).
 */
export async function engineMicro(): Promise<MicroBench[]> {
  const dataDir = mkdtempSync(join(tmpdir(), "kgw-bench-micro-"));
  const gateway = await createGateway({
    dataDir,
    credentials: createStaticCredentialStore([
      { identity: createRootIdentity("bench-micro"), secretKey: "bench-micro-unused" },
    ]),
    log: () => {},
  });
  const { engine } = gateway;
  await engine.configure({ backendType: "local", enableCache: true });
  await engine.start();
  const key = await engine.createKey({ tags: { name: "bench-000000" } });
  const generated = await engine.generateDataKey({ keyId: key.keyId });
  const teardown = async () => {
    await gateway.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  return [
    {
      name: "engine generateDataKey (cached key)",
      fn: async () => {
        const dataKey = await engine.generateDataKey({ keyId: key.keyId });
        if (dataKey.plaintextKey.length !== 32)
          throw new Error("engine micro-benchmark: wrong key");
      },
      teardown,
    },
    {
      name: "engine decrypt (cached key)",
      fn: async () => {
        const decrypted = await engine.decrypt({ ciphertextBlob: generated.ciphertextBlob });
        if (decrypted.plaintextKey.length !== 32)
          throw new Error("engine micro-benchmark: wrong key");
      },
    },
  ];
}
