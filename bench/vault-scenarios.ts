/**
 * vault-scenarios is `npm run bench -- --vault`: generate-data-key through the
 * engine on the Vault backend against the Vault-compatible test server
 * (test/support/vault/) with 1 ms of injected latency per Vault request, the
 * cache off and on. The engine and the test server share this one process
 * (and its core), so the figures bound what Vault round trips cost the engine;
 * they are not the gateway's HTTP throughput (that is `npm run bench`).
 */
import { createVaultBackendFactory } from "../src/backends/vault/vault-backend-factory.js";
import type { PersistedState, StateStore } from "../src/engine/backend.js";
import { createEngine } from "../src/engine/engine.js";
import { startVaultCompatibleServer } from "../test/support/vault/vault-compatible-server.js";

/** VaultScenarioResult is one run: throughput and Vault requests per call. */
export interface VaultScenarioResult {
  name: string;
  enableCache: boolean;
  latencyMs: number;
  concurrency: number;
  seconds: number;
  calls: number;
  callsPerSecond: number;
  vaultRequestsPerCall: number;
}

function memoryStateStore(): StateStore {
  let state: PersistedState | null = null;
  return {
    load: async () => state,
    save: async (next) => {
      state = next;
    },
  };
}

/** runVaultScenario drives `concurrency` closed loops of generate-data-key for `seconds`. */
export async function runVaultScenario(options: {
  enableCache: boolean;
  latencyMs: number;
  concurrency: number;
  seconds: number;
}): Promise<VaultScenarioResult> {
  const vault = await startVaultCompatibleServer();
  const engine = await createEngine({
    stateStore: memoryStateStore(),
    backends: { vault: createVaultBackendFactory() },
    defaultKeyDir: "/nonexistent",
  });
  try {
    await engine.configure({
      backendType: "vault",
      address: vault.url,
      authMethod: { token: vault.rootToken },
      enableCache: options.enableCache,
    });
    await engine.start();
    await engine.createKey({ tags: { name: "bench" } });
    vault.faults.latencyMs = options.latencyMs;
    // Warm-up: connections, JIT, and the metadata cache when it is on.
    for (let i = 0; i < 50; i++) await engine.generateDataKey({ keyId: "bench" });
    const before = vault.requests.length;
    let calls = 0;
    const started = performance.now();
    const end = started + options.seconds * 1000;
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        while (performance.now() < end) {
          const dk = await engine.generateDataKey({
            keyId: "bench",
            encryptionContext: { bucket: "b" },
          });
          dk.plaintextKey.fill(0);
          calls++;
        }
      }),
    );
    const elapsed = (performance.now() - started) / 1000;
    return {
      name: `generate-data-key, vault test server, ${options.latencyMs} ms latency, cache ${options.enableCache ? "on" : "off"}`,
      ...options,
      seconds: elapsed,
      calls,
      callsPerSecond: calls / elapsed,
      vaultRequestsPerCall: (vault.requests.length - before) / calls,
    };
  } finally {
    await engine.close();
    await vault.close();
  }
}

/** runVaultScenarios runs the cache-off and cache-on scenarios and returns a printable table. */
export async function runVaultScenarios(seconds: number): Promise<string> {
  const results: VaultScenarioResult[] = [];
  for (const enableCache of [false, true]) {
    results.push(await runVaultScenario({ enableCache, latencyMs: 1, concurrency: 16, seconds }));
  }
  const lines = results.map(
    (r) =>
      `| ${r.name} | ${r.concurrency} | ${r.calls} | ${r.callsPerSecond.toFixed(0)} | ${r.vaultRequestsPerCall.toFixed(2)} |`,
  );
  return [
    "| scenario | concurrency | calls | calls/s | Vault requests/call |",
    "|---|---|---|---|---|",
    ...lines,
  ].join("\n");
}
