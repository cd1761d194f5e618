import { randomUUID } from "node:crypto";
import type { KmsConfig, VaultBackendConfig } from "../../../src/engine/types.js";
import {
  startVaultCompatibleServer,
  type VaultCompatibleServer,
  type VaultServerOptions,
} from "../../support/vault/vault-compatible-server.js";

/**
 * VaultTarget is a Vault the tests run against: the Vault-compatible test
 * server (`server` set), or a real Vault / OpenBao named by VAULT_ADDR and
 * VAULT_TOKEN (`server` null; it needs a Transit mount `transit` and a KV v2
 * mount `secret`, and the policy in the README's Vault section).
 */
export interface VaultTarget {
  name: string;
  address: string;
  token: string;
  server: VaultCompatibleServer | null;
  close(): Promise<void>;
}

/** startTestVault starts the Vault-compatible test server as a VaultTarget. */
export async function startTestVault(options?: VaultServerOptions): Promise<VaultTarget> {
  const server = await startVaultCompatibleServer(options);
  return {
    name: "Vault-compatible test server",
    address: server.url,
    token: server.rootToken,
    server,
    close: () => server.close(),
  };
}

/** realVault is the real Vault of VAULT_ADDR / VAULT_TOKEN, or null when they are not set. */
export function realVault(): VaultTarget | null {
  const address = process.env.VAULT_ADDR;
  const token = process.env.VAULT_TOKEN;
  if (!address || !token) return null;
  return { name: `real Vault at ${address}`, address, token, server: null, close: async () => {} };
}

/**
 * vaultConfig is a complete vault KmsConfig for a target: short timeouts so
 * fault tests stay within seconds, and, on a real Vault, a fresh
 * key_path_prefix per call so every test starts with no keys.
 */
export function vaultConfig(
  target: VaultTarget,
  overrides: Partial<Omit<KmsConfig, "backend">> = {},
  backend: Partial<VaultBackendConfig> = {},
): KmsConfig {
  return {
    backend: {
      backendType: "vault",
      address: target.address,
      authMethod: { token: target.token },
      namespace: null,
      mountPath: "transit",
      kvMount: "secret",
      keyPathPrefix:
        target.server === null ? `kms-gateway-tests/${randomUUID()}` : "rustfs/kms/keys",
      skipTlsVerify: false,
      caCertPath: null,
      ...backend,
    },
    defaultKeyId: null,
    enableCache: true,
    cacheTtlSeconds: 300,
    maxCachedKeys: 1024,
    timeoutSeconds: 2,
    retryAttempts: 2,
    ...overrides,
  };
}
