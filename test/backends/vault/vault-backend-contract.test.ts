import { describe } from "vitest";
import { createVaultBackendFactory } from "../../../src/backends/vault/vault-backend-factory.js";
import { describeKeyBackendContract } from "../key-backend-contract.js";
import { realVault, startTestVault, vaultConfig } from "./vault-target.js";

// The same storage contract as local and memory, on the Vault backend: against
// the Vault-compatible test server always, and a real Vault when configured.
describeKeyBackendContract("vault (test server)", async () => {
  const target = await startTestVault();
  const backend = await createVaultBackendFactory()(vaultConfig(target));
  return {
    backend,
    async cleanup() {
      await backend.close();
      await target.close();
    },
  };
});

const real = realVault();
describe.skipIf(real === null)("with a real Vault", () => {
  if (real === null) return;
  describeKeyBackendContract(`vault (${real.name})`, async () => {
    const backend = await createVaultBackendFactory()(vaultConfig(real));
    return { backend, cleanup: () => backend.close() };
  });
});
