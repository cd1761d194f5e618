import { readFile } from "node:fs/promises";
import type { BackendFactory } from "../../engine/backend.js";
import { KmsError } from "../../engine/errors.js";
import type { VaultBackendConfig } from "../../engine/types.js";
import { createVaultBackend } from "./vault-backend.js";
import type { VaultClientOptions } from "./vault-client.js";

/** MAX_CA_CERT_BYTES bounds the `ca_cert_path` file (a bundle of a few certificates). */
export const MAX_CA_CERT_BYTES = 1024 * 1024;

/** VaultBackendFactoryOptions are what createVaultBackendFactory needs from the composition root. */
export interface VaultBackendFactoryOptions {
  /** Where the backend and its client log; never given a secret. */
  log?: NonNullable<VaultClientOptions["log"]>;
  /** Where the client reports retries and circuit-breaker changes (the gateway's metrics). */
  events?: VaultClientOptions["events"];
  /** Resilience settings for tests (breaker, limits, backoff); production uses the defaults. */
  client?: Partial<
    Pick<
      VaultClientOptions,
      | "maxInFlight"
      | "maxWaiting"
      | "breakerThreshold"
      | "breakerOpenMs"
      | "backoffBaseMs"
      | "backoffMaxMs"
    >
  >;
}

/**
 * createVaultBackendFactory returns the BackendFactory of `backend_type: vault`:
 * it reads `ca_cert_path`, warns when `skip_tls_verify` is on, builds the
 * client (per-attempt `timeout_seconds`, `retry_attempts`), and opens the
 * backend — login, sys/health, the Transit and KV mounts — rejecting with a
 * message that says which part failed, before the engine ever uses it.
 */
export function createVaultBackendFactory(
  options: VaultBackendFactoryOptions = {},
): BackendFactory {
  const log = options.log ?? (() => {});
  return async (config) => {
    if (config.backend.backendType !== "vault") {
      throw new KmsError("INVALID_ARGUMENT", "the vault backend needs a vault configuration");
    }
    const vault: VaultBackendConfig = config.backend;
    if (vault.skipTlsVerify) {
      log("warn", "skip_tls_verify is on: the Vault server's certificate is not checked", {
        address: vault.address,
      });
    }
    // Loaded on first use: node-vault and its HTTP stack cost ~20 MB of RSS, which a
    // gateway on the local backend should not pay.
    const { createVaultClient } = await import("./vault-client.js");
    const client = createVaultClient({
      address: vault.address,
      auth: vault.authMethod,
      namespace: vault.namespace,
      caCert: vault.caCertPath === null ? null : await readCaCert(vault.caCertPath),
      skipTlsVerify: vault.skipTlsVerify,
      timeoutMs: config.timeoutSeconds * 1000,
      retryAttempts: config.retryAttempts,
      log,
      events: options.events,
      ...options.client,
    });
    const backend = createVaultBackend(vault, client);
    try {
      await backend.open();
    } catch (error) {
      client.close();
      throw error;
    }
    return backend;
  };
}

async function readCaCert(path: string): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    const code = (cause as { code?: unknown } | null)?.code;
    throw new KmsError(
      "CONFIG_CONFLICT",
      `ca_cert_path ${path} cannot be read${typeof code === "string" ? ` (${code})` : ""}`,
      { cause },
    );
  }
  if (bytes.length === 0 || bytes.length > MAX_CA_CERT_BYTES) {
    throw new KmsError(
      "CONFIG_CONFLICT",
      `ca_cert_path ${path} must hold PEM certificates (at most ${MAX_CA_CERT_BYTES} bytes)`,
    );
  }
  return bytes;
}
