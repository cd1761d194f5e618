import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useSelfSignedCert } from "../../helpers/self-signed-cert.js";
import { startVaultEngine, type VaultEngine, vaultPatch } from "./vault-engine.js";
import { startTestVault, type VaultTarget } from "./vault-target.js";

// Vault over HTTPS with a certificate no public CA signed: refused without
// ca_cert_path, served with it, and with skip_tls_verify only after a warning.

const cert = useSelfSignedCert();
let target: VaultTarget;
const engines: VaultEngine[] = [];

beforeAll(async () => {
  target = await startTestVault({ tls: { cert: cert.cert, key: cert.key } });
});
afterAll(async () => {
  for (const e of engines) await e.engine.close();
  await target.close();
});

async function tryStart(extra: Parameters<typeof vaultPatch>[1]) {
  const subject = await startVaultEngine(null);
  engines.push(subject);
  await subject.engine.configure(vaultPatch(target, extra));
  const started = await subject.engine.start().catch((e: unknown) => e as Error);
  return { subject, started };
}

describe("Vault over TLS", () => {
  it("refuses a certificate it cannot verify", async () => {
    expect(target.address).toMatch(/^https:/);
    const { started } = await tryStart({});
    expect(started).toMatchObject({ code: "BACKEND_UNAVAILABLE" });
  });

  it("verifies the certificate against ca_cert_path", async () => {
    const { subject, started } = await tryStart({ caCertPath: cert.certPath });
    expect(started).toMatchObject({ status: "Running" });
    await subject.engine.createKey({ tags: { name: "over-tls" } });
    expect((await subject.engine.generateDataKey({ keyId: "over-tls" })).plaintextKey).toHaveLength(
      32,
    );
    expect(subject.logs.some((l) => l.level === "warn")).toBe(false);
  });

  it("fails the start naming ca_cert_path when the file is missing", async () => {
    const { started } = await tryStart({ caCertPath: `${cert.dir}/missing.pem` });
    expect(started).toMatchObject({ code: "CONFIG_CONFLICT" });
    expect((started as Error).message).toBe(
      `ca_cert_path ${cert.dir}/missing.pem cannot be read (ENOENT)`,
    );
  });

  it("skips verification with skip_tls_verify, warning about it", async () => {
    const { subject, started } = await tryStart({ skipTlsVerify: true });
    expect(started).toMatchObject({ status: "Running" });
    expect(subject.logs).toContainEqual(
      expect.objectContaining({
        level: "warn",
        message: "skip_tls_verify is on: the Vault server's certificate is not checked",
      }),
    );
  });
});
