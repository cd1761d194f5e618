import { createServer } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isKmsError } from "../../src/engine/errors.js";
import { startVaultEngine, type VaultEngine, vaultPatch } from "../backends/vault/vault-engine.js";
import { startTestVault, type VaultTarget } from "../backends/vault/vault-target.js";
import { expectKmsError } from "../helpers/expect-kms-error.js";
import { until } from "../helpers/until.js";

// Vault failing: at start, while running, with an expiring AppRole token, with
// 429s, and behind a reconfigure. Timeouts are 1 s and the breaker opens for
// 300 ms, so each case takes seconds at most.

let target: VaultTarget;
let subject: VaultEngine | null = null;
const server = () => {
  if (target.server === null) throw new Error("needs the test server");
  return target.server;
};

beforeEach(async () => {
  target = await startTestVault();
});
const role = { roleId: "role-4b1e9c", secretId: "secret-9f2d77a1c0" };

afterEach(async () => {
  // Whatever failed, no log line names a secret: the token, the AppRole
  // secret id, or a token Vault issued.
  const issued = (target.server?.requests ?? []).map((r) => r.token ?? "").filter((t) => t !== "");
  const logged = JSON.stringify(subject?.logs ?? []);
  for (const secret of new Set([target.token, role.secretId, ...issued])) {
    expect(logged.includes(secret), "a secret in the log").toBe(false);
  }
  await subject?.engine.close();
  subject = null;
  await target.close();
});

/** closedPort is a loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe("Vault down at start", () => {
  it("fails the start with a message naming the part, and status Error", async () => {
    const address = `http://127.0.0.1:${await closedPort()}`;
    subject = await startVaultEngine(null);
    await subject.engine.configure(vaultPatch(target, { address }));
    const error = await subject.engine.start().catch((e: unknown) => e);
    expect(isKmsError(error, "BACKEND_UNAVAILABLE"), String(error)).toBe(true);
    expect((error as Error).message).toBe(
      "Vault check failed while logging in to Vault: Vault is unreachable",
    );
    const status = await subject.engine.status();
    expect(status).toMatchObject({ status: "Error", healthy: false });
  });

  it("names the mount that is missing", async () => {
    subject = await startVaultEngine(null);
    await subject.engine.configure(vaultPatch(target, { mountPath: "no-such-transit" }));
    await expect(subject.engine.start()).rejects.toThrow(
      'Vault check failed while listing the Transit mount "no-such-transit": not found',
    );
    await subject.engine.reconfigure({ mountPath: "transit", kvMount: "no-such-kv" });
    await expect(subject.engine.start()).rejects.toThrow(
      'Vault check failed while listing the KV v2 mount "no-such-kv"',
    );
  });

  it("refuses a token Vault does not know, as denied (500), not unreachable", async () => {
    subject = await startVaultEngine(null);
    await subject.engine.configure(vaultPatch(target, { authMethod: { token: "hvs.unknown" } }));
    await expect(subject.engine.start()).rejects.toMatchObject({
      code: "BACKEND_ERROR",
      message:
        "Vault check failed while logging in to Vault: Vault denied the request: check the token's or AppRole's policy",
    });
  });
});

describe("Vault down while running", () => {
  it("fails fast with 503 once the breaker opens, stays up, and recovers by itself", async () => {
    subject = await startVaultEngine(vaultPatch(target));
    const { engine } = subject;
    await engine.createKey({ tags: { name: "k" } });
    server().faults.failNext(1_000_000, 503);
    // retry_attempts 2: three attempts per call; five failures open the breaker.
    await expectKmsError(engine.generateDataKey({ keyId: "k" }), "BACKEND_UNAVAILABLE");
    await expectKmsError(engine.generateDataKey({ keyId: "k" }), "BACKEND_UNAVAILABLE");
    const sent = server().requests.length;
    const fast = await engine.generateDataKey({ keyId: "k" }).catch((e: unknown) => e);
    expect(fast).toMatchObject({
      code: "BACKEND_UNAVAILABLE",
      message: "Vault has been failing: calls fail fast until a probe finds it back",
    });
    expect(server().requests.length, "an open circuit sends nothing").toBe(sent);
    expect((await engine.status()).status).toBe("Error");
    server().faults.failNext(0);
    const dk = await until(() => engine.generateDataKey({ keyId: "k" }));
    expect(dk.plaintextKey).toHaveLength(32);
    expect((await engine.status()).status).toBe("Running");
  });

  it("retries dropped connections and 429s on the same call", async () => {
    subject = await startVaultEngine(vaultPatch(target, { enableCache: false }));
    const { engine } = subject;
    await engine.createKey({ tags: { name: "r" } });
    server().faults.failNext(2, 429);
    expect((await engine.describeKey("r")).keyId).toBe("r");
    server().faults.dropNext(2);
    expect((await engine.generateDataKey({ keyId: "r" })).plaintextKey).toHaveLength(32);
    const statuses = server().requests.map((r) => r.status);
    expect(statuses.filter((s) => s === 429)).toHaveLength(2);
    expect(statuses.filter((s) => s === -1)).toHaveLength(2);
  });

  it("does not retry a refusal (4xx)", async () => {
    subject = await startVaultEngine(vaultPatch(target, { enableCache: false }));
    await subject.engine.createKey({ tags: { name: "x" } });
    const before = server().requests.length;
    server().faults.failNext(1, 400);
    await expectKmsError(subject.engine.describeKey("x"), "BACKEND_ERROR");
    expect(server().requests.length - before).toBe(1);
  });
});

describe("AppRole", () => {
  it("logs in, renews before the TTL runs out, and logs in again when the token expires", async () => {
    server().addAppRole({ ...role, token: { ttlSeconds: 2, renewable: true } });
    subject = await startVaultEngine(
      vaultPatch(target, { authMethod: { approle: { ...role, mount: "approle" } } }),
    );
    const { engine } = subject;
    await engine.createKey({ tags: { name: "a" } });
    const logins = () => server().requests.filter((r) => r.path === "auth/approle/login");
    expect(logins()).toHaveLength(1);
    await until(async () => {
      expect(server().requests.some((r) => r.path === "auth/token/renew-self")).toBe(true);
    });
    // The token dies early (revoked, or its max TTL): the next call logs in again.
    const token = server().requests.at(-1)?.token;
    expect(token).toMatch(/^hvs\./);
    server().expireToken(token as string);
    const dk = await engine.generateDataKey({ keyId: "a" });
    expect(dk.plaintextKey).toHaveLength(32);
    expect(logins()).toHaveLength(2);
    expect(server().requests.at(-1)?.token).not.toBe(token);
  });

  it("fails the start with a clear message when the AppRole login is refused", async () => {
    server().addAppRole(role);
    subject = await startVaultEngine(null);
    await subject.engine.configure(
      vaultPatch(target, { authMethod: { approle: { ...role, secretId: "wrong-secret" } } }),
    );
    await expect(subject.engine.start()).rejects.toThrow(
      /^Vault check failed while logging in to Vault: Vault refused the request \(HTTP 400\)$/,
    );
  });
});

describe("reconfigure", () => {
  it("refuses a switch from local to an unreachable Vault, and local keeps serving", async () => {
    const { mkdtemp, rm } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const root = await mkdtemp(join(tmpdir(), "kms-vault-reconf-"));
    try {
      subject = await startVaultEngine({
        backendType: "local",
        keyDir: join(root, "keys"),
        masterKey: Buffer.alloc(32, 3).toString("base64"),
      });
      const { engine } = subject;
      await engine.createKey({ tags: { name: "local-key" } });
      const address = `http://127.0.0.1:${await closedPort()}`;
      await expectKmsError(
        engine.reconfigure(vaultPatch(target, { address })),
        "BACKEND_UNAVAILABLE",
      );
      expect((await engine.status()).backendType).toBe("local");
      expect((await engine.generateDataKey({ keyId: "local-key" })).plaintextKey).toHaveLength(32);
      // A healthy Vault is swapped in, and local keys are no longer served.
      const switched = await engine.reconfigure(vaultPatch(target));
      expect(switched.status).toBe("Running");
      expect((await engine.status()).backendType).toBe("vault");
      await expectKmsError(engine.describeKey("local-key"), "KEY_NOT_FOUND");
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
