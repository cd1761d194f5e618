import { promises as fsp } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe } from "vitest";
import { localBackendFactory } from "../../src/backends/local/local-backend.js";
import { createVaultBackendFactory } from "../../src/backends/vault/vault-backend-factory.js";
import { describeKeyEngineContract } from "./key-engine-contract.js";
import { realVault, startTestVault, vaultConfig } from "./vault/vault-target.js";

// One key contract, every backend: local (engine custody), Vault on the
// Vault-compatible test server (Transit custody), and a real Vault or OpenBao
// when VAULT_ADDR and VAULT_TOKEN are set.

describeKeyEngineContract("local", async () => {
  const root = await fsp.mkdtemp(join(tmpdir(), "kms-engine-contract-"));
  return {
    patch: {
      backendType: "local",
      keyDir: join(root, "keys"),
      // Raw 32-byte base64: no scrypt cost per test.
      masterKey: Buffer.alloc(32, 7).toString("base64"),
    },
    backends: { local: localBackendFactory },
    cleanup: () => fsp.rm(root, { recursive: true, force: true }),
  };
});

describeKeyEngineContract("vault (test server)", async () => {
  const target = await startTestVault();
  return {
    patch: {
      backendType: "vault",
      address: target.address,
      authMethod: { token: target.token },
      timeoutSeconds: 2,
    },
    backends: { vault: createVaultBackendFactory() },
    cleanup: () => target.close(),
  };
});

const real = realVault();
describe.skipIf(real === null)("with a real Vault", () => {
  if (real === null) return;
  describeKeyEngineContract(`vault (${real.name})`, async () => {
    const config = vaultConfig(real);
    const vault = config.backend.backendType === "vault" ? config.backend : null;
    return {
      patch: {
        backendType: "vault",
        address: real.address,
        authMethod: { token: real.token },
        keyPathPrefix: vault?.keyPathPrefix,
        timeoutSeconds: 5,
      },
      backends: { vault: createVaultBackendFactory() },
      cleanup: async () => {},
    };
  });
});
