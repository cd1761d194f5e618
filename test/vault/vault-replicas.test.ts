import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestVault, type VaultTarget } from "../backends/vault/vault-target.js";
import { type GatewayProcess, startGateway } from "../helpers/gateway-process.js";
import { type RestAnswer, signedFetch } from "../helpers/signed-fetch.js";
import { until } from "../helpers/until.js";

// Two real gateway processes, stateless replicas in front of one Vault (the
// Vault-compatible test server): A configured on first start from
// --kms-backend vault and RUSTFS_KMS_VAULT_*, B over the API with an AppRole.
// Every log line and answer of both is then scanned for the token and secret.

const api = "/rustfs/admin/v3/kms";
const role = { roleId: "replica-role-7c1f", secretId: "replica-secret-0d9e4b2a77" };
let target: VaultTarget;
let a: GatewayProcess;
let b: GatewayProcess;
const answers: RestAnswer[] = [];

async function call(gw: GatewayProcess, method: string, path: string, body?: unknown) {
  const answer = await signedFetch(gw.url, method, `${api}${path}`, {
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  answers.push(answer);
  return answer;
}

beforeAll(async () => {
  target = await startTestVault();
  target.server?.addAppRole({ ...role, token: { ttlSeconds: 3600 } });
  [a, b] = await Promise.all([
    startGateway({
      args: ["--kms-backend", "vault"],
      env: { RUSTFS_KMS_VAULT_ADDRESS: target.address, RUSTFS_KMS_VAULT_TOKEN: target.token },
    }),
    startGateway({ args: ["--kms-backend", "none"] }),
  ]);
  expect((await call(a, "GET", "/status")).json).toMatchObject({ status: "Running" });
  // Short cache TTLs, so a change through one replica reaches the other in a second.
  expect((await call(a, "POST", "/reconfigure", { cache_ttl_seconds: 1 })).status).toBe(200);
  const configured = await call(b, "POST", "/configure", {
    backend_type: "vault",
    address: target.address,
    auth_method: { approle: { role_id: role.roleId, secret_id: role.secretId } },
    cache_ttl_seconds: 1,
    timeout_seconds: 2,
  });
  expect(configured.status, configured.text).toBe(200);
  expect((await call(b, "POST", "/start")).json).toMatchObject({ status: "Running" });
}, 60_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await target?.close();
});

describe("two gateways on one Vault", () => {
  it("a key created through one is described and used through the other", async () => {
    const created = await call(a, "POST", "/keys", { Tags: { name: "shared" } });
    expect(created.status, created.text).toBe(200);
    const described = await call(b, "GET", "/keys/shared");
    expect(described.json).toMatchObject({
      key_metadata: { key_id: "shared", key_state: "Enabled" },
    });
    const dk = await call(a, "POST", "/generate-data-key", {
      key_id: "shared",
      encryption_context: { bucket: "x" },
    });
    const { plaintext_key, ciphertext_blob } = dk.json as Record<string, string>;
    const back = await call(b, "POST", "/decrypt", {
      ciphertext_blob,
      encryption_context: { bucket: "x" },
    });
    expect(back.json).toMatchObject({ key_id: "shared", plaintext_key });
    const wrongContext = await call(b, "POST", "/decrypt", { ciphertext_blob });
    expect(wrongContext.status).toBe(400);
    expect(wrongContext.json).toMatchObject({ code: "InvalidCiphertext" });
  });

  it("concurrent tag updates through both lose none (check-and-set, then retry)", async () => {
    await call(a, "POST", "/keys", { Tags: { name: "tagged" } });
    const updates = Array.from({ length: 16 }, (_, i) =>
      call(i % 2 === 0 ? a : b, "POST", "/keys/tag", {
        key_id: "tagged",
        tags: { [`t${i}`]: `v${i}` },
      }),
    );
    for (const answer of await Promise.all(updates)) expect(answer.status, answer.text).toBe(200);
    const expected: Record<string, string> = { name: "tagged" };
    for (let i = 0; i < 16; i++) expected[`t${i}`] = `v${i}`;
    for (const gw of [a, b]) {
      const described = await until(
        async () => {
          const d = await call(gw, "GET", "/keys/tagged");
          expect((d.json as { key_metadata: { tags: unknown } }).key_metadata.tags).toEqual(
            expected,
          );
          return d;
        },
        3000,
        100,
      );
      expect(described.status).toBe(200);
    }
    // The race was real: some writes lost check-and-set and were applied again.
    const conflicts = (target.server?.requests ?? []).filter(
      (r) => r.path === "secret/data/rustfs/kms/keys/tagged" && r.status === 400,
    );
    expect(conflicts.length).toBeGreaterThan(0);
  });

  it("a key disabled through one refuses data keys through the other within cache_ttl_seconds", async () => {
    await call(a, "POST", "/keys", { Tags: { name: "gate" } });
    expect((await call(b, "POST", "/generate-data-key", { key_id: "gate" })).status).toBe(200);
    expect((await call(a, "POST", "/keys/disable", { key_id: "gate" })).status).toBe(200);
    // Through A itself: at once.
    expect((await call(a, "POST", "/generate-data-key", { key_id: "gate" })).status).toBe(409);
    // Through B: once its cached metadata (1 s) expires; polled for at most 3 s.
    const refused = await until(
      async () => {
        const answer = await call(b, "POST", "/generate-data-key", { key_id: "gate" });
        expect(answer.status).toBe(409);
        return answer;
      },
      3000,
      100,
    );
    expect(refused.json).toMatchObject({ code: "Conflict" });
  });

  it("of concurrent creates of one alias through both gateways exactly one wins", async () => {
    await call(a, "POST", "/keys", { Tags: { name: "aliased" } });
    for (let round = 0; round < 3; round++) {
      const alias_name = `alias/replica-race-${round}`;
      const answers = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          call(i % 2 === 0 ? a : b, "POST", "/aliases", { alias_name, key_id: "aliased" }),
        ),
      );
      const statuses = answers.map((r) => r.status).sort();
      expect(statuses, answers.map((r) => r.text).join("\n")).toEqual([
        200, 409, 409, 409, 409, 409,
      ]);
      const listed = await call(b, "GET", "/aliases");
      expect(JSON.stringify(listed.json)).toContain(alias_name);
    }
  });

  it("reports the auth method type, never the secret, in status and config", async () => {
    const status = await call(b, "GET", "/status");
    expect(status.json).toMatchObject({
      status: "Running",
      healthy: true,
      config_summary: { backend_summary: { backend_type: "vault", auth_method_type: "approle" } },
    });
    const statusA = await call(a, "GET", "/status");
    expect(statusA.json).toMatchObject({
      config_summary: { backend_summary: { auth_method_type: "token" } },
    });
    await call(a, "GET", "/config");
    await call(b, "GET", "/config");
  });

  it("never puts the token or the AppRole secret in a log line or an answer", async () => {
    const secrets = [target.token, role.secretId];
    expect(answers.length).toBeGreaterThan(20);
    const logs = [...a.logLines, ...b.logLines];
    expect(logs.length).toBeGreaterThan(5);
    for (const secret of secrets) {
      for (const line of logs) expect(line.includes(secret), line).toBe(false);
      for (const answer of answers) expect(answer.text.includes(secret), answer.text).toBe(false);
    }
    // B's Vault token (from its AppRole login) is a secret too.
    const issued = (target.server?.requests ?? [])
      .map((r) => r.token)
      .filter((t): t is string => t !== null && t !== target.token);
    expect(issued.length).toBeGreaterThan(0);
    for (const token of new Set(issued)) {
      for (const line of logs) expect(line.includes(token)).toBe(false);
      for (const answer of answers) expect(answer.text.includes(token)).toBe(false);
    }
  });
});
