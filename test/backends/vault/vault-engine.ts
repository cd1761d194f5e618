import { localBackendFactory } from "../../../src/backends/local/local-backend.js";
import type { VaultBackendFactoryOptions } from "../../../src/backends/vault/vault-backend-factory.js";
import { createVaultBackendFactory } from "../../../src/backends/vault/vault-backend-factory.js";
import type { BackendFactory } from "../../../src/engine/backend.js";
import { createEngine, type Engine } from "../../../src/engine/engine.js";
import type { KmsConfigPatch } from "../../../src/engine/types.js";
import { createMemoryStateStore } from "../../helpers/memory-state-store.js";
import type { VaultTarget } from "./vault-target.js";

/** LoggedLine is one line an engine under test logged. */
export interface LoggedLine {
  level: string;
  message: string;
  fields?: Record<string, unknown>;
}

/** VaultEngine is an engine with the local and vault backends, and everything it logged. */
export interface VaultEngine {
  engine: Engine;
  logs: LoggedLine[];
}

/** vaultPatch is a configure request for `target` with short timeouts, plus `extra`. */
export function vaultPatch(target: VaultTarget, extra: KmsConfigPatch = {}): KmsConfigPatch {
  return {
    backendType: "vault",
    address: target.address,
    authMethod: { token: target.token },
    timeoutSeconds: 1,
    retryAttempts: 2,
    ...extra,
  };
}

/**
 * startVaultEngine builds an engine over a memory state store with the local
 * backend and the Vault backend (fast breaker and backoff, so fault tests take
 * seconds); configures and starts `patch` when given.
 */
export async function startVaultEngine(
  patch: KmsConfigPatch | null,
  client: VaultBackendFactoryOptions["client"] = {},
  options: { now?: () => Date } = {},
): Promise<VaultEngine> {
  const logs: LoggedLine[] = [];
  const log = (
    level: "info" | "warn" | "error",
    message: string,
    fields?: Record<string, unknown>,
  ) => {
    logs.push({ level, message, ...(fields === undefined ? {} : { fields }) });
  };
  const vault: BackendFactory = createVaultBackendFactory({
    log,
    client: { breakerOpenMs: 300, backoffBaseMs: 10, backoffMaxMs: 50, ...client },
  });
  const engine = await createEngine({
    stateStore: createMemoryStateStore(),
    backends: { local: localBackendFactory, vault },
    defaultKeyDir: "/nonexistent/keys",
    log,
    sweepIntervalMs: 3_600_000,
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  if (patch !== null) {
    await engine.configure(patch);
    await engine.start();
  }
  return { engine, logs };
}
