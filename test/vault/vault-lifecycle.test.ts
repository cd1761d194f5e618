import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createVaultBackendFactory } from "../../src/backends/vault/vault-backend-factory.js";
import { createEngine } from "../../src/engine/engine.js";
import { startVaultEngine, type VaultEngine, vaultPatch } from "../backends/vault/vault-engine.js";
import { startTestVault, type VaultTarget } from "../backends/vault/vault-target.js";
import { expectKmsError } from "../helpers/expect-kms-error.js";
import { createMemoryStateStore } from "../helpers/memory-state-store.js";

// The service lifecycle on Vault: the summary, rekey, and a restart of the process.

let target: VaultTarget;
let subject: VaultEngine | null = null;

beforeEach(async () => {
  target = await startTestVault();
});
afterEach(async () => {
  await subject?.engine.close();
  subject = null;
  await target.close();
});

describe("the Vault backend's lifecycle", () => {
  it("summarises the configuration without the token", async () => {
    subject = await startVaultEngine(vaultPatch(target));
    const status = await subject.engine.status();
    expect(status).toMatchObject({
      status: "Running",
      healthy: true,
      backendType: "vault",
      configSummary: {
        backendSummary: {
          backendType: "vault",
          address: target.address,
          authMethodType: "token",
          mountPath: "transit",
          kvMount: "secret",
          keyPathPrefix: "rustfs/kms/keys",
        },
      },
    });
    expect(JSON.stringify(status)).not.toContain(target.token);
  });

  it("refuses rekey with a 400 that says it is for the local backend", async () => {
    subject = await startVaultEngine(vaultPatch(target));
    await expectKmsError(
      subject.engine.rekeyMaster({ masterKey: Buffer.alloc(32, 9).toString("base64") }),
      "INVALID_ARGUMENT",
    );
    await expect(
      subject.engine.rekeyMaster({ masterKey: Buffer.alloc(32, 9).toString("base64") }),
    ).rejects.toThrow("rekey applies to the local backend only");
  });

  it("starts Vault again from the stored state after a restart, and its keys are all there", async () => {
    const stateStore = createMemoryStateStore();
    const open = () =>
      createEngine({
        stateStore,
        backends: { vault: createVaultBackendFactory() },
        defaultKeyDir: "/nonexistent/keys",
      });
    const first = await open();
    await first.configure(vaultPatch(target));
    await first.start();
    await first.createKey({ tags: { name: "survivor" } });
    const dk = await first.generateDataKey({ keyId: "survivor" });
    await first.close();
    // Nothing of the key is in the gateway's own state: only the configuration.
    expect(JSON.stringify(stateStore.state)).not.toContain("survivor");
    const second = await open();
    try {
      expect((await second.status()).status).toBe("Running");
      const back = await second.decrypt({ ciphertextBlob: dk.ciphertextBlob });
      expect(Buffer.from(back.plaintextKey)).toEqual(Buffer.from(dk.plaintextKey));
    } finally {
      await second.close();
    }
  });

  it("stops and starts again on the same Vault", async () => {
    subject = await startVaultEngine(vaultPatch(target));
    expect((await subject.engine.stop()).status).toBe("Configured");
    expect((await subject.engine.start()).status).toBe("Running");
    expect((await subject.engine.status()).healthy).toBe(true);
  });
});
