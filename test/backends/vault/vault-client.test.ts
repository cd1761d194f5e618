import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  createVaultClient,
  type VaultClient,
  type VaultClientOptions,
} from "../../../src/backends/vault/vault-client.js";
import { VaultRequestError } from "../../../src/backends/vault/vault-request-error.js";
import {
  startVaultCompatibleServer,
  type VaultCompatibleServer,
} from "../../support/vault/vault-compatible-server.js";

// The Vault client against the Vault-compatible test server: what goes over the
// wire, how failures are classified, retried, cut short and kept from leaking.

let vault: VaultCompatibleServer;
const clients: VaultClient[] = [];
const logLines: string[] = [];

beforeAll(async () => {
  vault = await startVaultCompatibleServer({ namespaces: ["tenant-a"] });
});
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  vault.faults.latencyMs = 0;
  vault.faults.failNext(0);
  vault.faults.dropNext(0);
  vault.faults.sealed = false;
});
afterAll(async () => {
  await vault?.close();
});

function client(overrides: Partial<VaultClientOptions> = {}): VaultClient {
  const c = createVaultClient({
    address: vault.url,
    auth: { token: vault.rootToken },
    namespace: null,
    caCert: null,
    skipTlsVerify: false,
    timeoutMs: 2_000,
    retryAttempts: 3,
    backoffBaseMs: 5,
    backoffMaxMs: 20,
    log: (level, message, fields) =>
      logLines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`),
    ...overrides,
  });
  clients.push(c);
  return c;
}

async function failure(promise: Promise<unknown>): Promise<VaultRequestError> {
  const error = await promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(VaultRequestError);
  return error as VaultRequestError;
}

/** requestsSince returns the requests recorded after `mark` (a length of vault.requests). */
function requestsSince(mark: number) {
  return vault.requests.slice(mark);
}

describe("the Vault client", () => {
  it("reads, writes, lists and deletes; a 404 read is null and a 404 list is empty", async () => {
    const c = client();
    await c.login();
    expect(await c.read("secret/data/app/k1")).toBeNull();
    expect(await c.list("secret/metadata/app")).toEqual([]);
    await c.write("secret/data/app/k1", { data: { state: "Enabled" }, options: { cas: 0 } });
    expect((await c.read("secret/data/app/k1"))?.data).toMatchObject({
      data: { state: "Enabled" },
    });
    expect(await c.list("secret/metadata/app")).toEqual(["k1"]);
    await c.delete("secret/metadata/app/k1");
    expect(await c.read("secret/data/app/k1")).toBeNull();
  });

  it("sends the token on every request and the namespace when one is set", async () => {
    const mark = vault.requests.length;
    const c = client({ namespace: "tenant-a" });
    await c.login();
    await c.write("transit/keys/ns-key", {});
    await c.list("transit/keys");
    const sent = requestsSince(mark);
    expect(sent.length).toBe(3);
    for (const r of sent)
      expect(r).toMatchObject({ token: vault.rootToken, namespace: "tenant-a" });
    expect(vault.transit("transit", "tenant-a").keyNames()).toEqual(["ns-key"]);
  });

  it("classifies a check-and-set mismatch as a conflict, other 400s as rejected, 403 as denied", async () => {
    const c = client();
    await c.write("secret/data/cas", { data: { v: "1" }, options: { cas: 0 } });
    const conflict = await failure(
      c.write("secret/data/cas", { data: { v: "2" }, options: { cas: 0 } }),
    );
    expect(conflict.kind).toBe("conflict");
    const rejected = await failure(
      c.write("transit/decrypt/none", { ciphertext: "vault:v1:AAAA" }),
    );
    expect(rejected).toMatchObject({ kind: "rejected", status: 400 });
    const token = vault.createToken({ pathPrefixes: ["transit/"] });
    const denied = await failure(client({ auth: { token } }).read("secret/data/cas"));
    expect(denied.kind).toBe("denied");
  });

  it("refuses a bad token at login, naming neither the token nor Vault's body", async () => {
    const bad = "hvs.this-token-is-a-secret";
    const error = await failure(client({ auth: { token: bad } }).login());
    expect(error.kind).toBe("denied");
    expect(`${error.message} ${error.stack}`).not.toContain(bad);
  });

  it("retries an idempotent read through 503s and 429s, with backoff", async () => {
    const c = client();
    await c.write("secret/data/retry", { data: { v: "1" } });
    const mark = vault.requests.length;
    vault.faults.failNext(2, 503);
    expect((await c.read("secret/data/retry"))?.data).toMatchObject({ data: { v: "1" } });
    vault.faults.failNext(1, 429);
    expect(await c.list("secret/metadata")).toContain("retry");
    expect(requestsSince(mark).map((r) => r.status)).toEqual([503, 503, 200, 429, 200]);
  });

  it("gives up after retry_attempts, and does not retry a write unless told it is safe", async () => {
    const c = client({ retryAttempts: 1 });
    vault.faults.failNext(5, 502);
    const mark = vault.requests.length;
    expect((await failure(c.read("secret/data/x"))).kind).toBe("unavailable");
    expect(requestsSince(mark).length).toBe(2);
    const mark2 = vault.requests.length;
    expect((await failure(c.write("secret/data/x", { data: { v: "1" } }))).kind).toBe(
      "unavailable",
    );
    expect(requestsSince(mark2).length).toBe(1);
    vault.faults.failNext(1, 503);
    await c.write("secret/data/x", { data: { v: "1" }, options: { cas: 0 } }, { retry: true });
    expect((await c.read("secret/data/x"))?.data).toMatchObject({ data: { v: "1" } });
  });

  it("times out an attempt that gets no answer, and counts it as retryable", async () => {
    const c = client({ timeoutMs: 100, retryAttempts: 1 });
    vault.faults.latencyMs = 400;
    const started = performance.now();
    const error = await failure(c.read("secret/data/slow"));
    expect(error.kind).toBe("timeout");
    expect(error.retryable).toBe(true);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it("opens the circuit after repeated failures, fails fast, then probes and closes", async () => {
    const c = client({ retryAttempts: 0, breakerThreshold: 3, breakerOpenMs: 300 });
    vault.faults.dropNext(3);
    for (let i = 0; i < 3; i++)
      expect((await failure(c.read("secret/data/b"))).kind).toBe("unavailable");
    const mark = vault.requests.length;
    expect((await failure(c.read("secret/data/b"))).kind).toBe("circuit-open");
    expect(requestsSince(mark).length).toBe(0);
    await sleep(350);
    expect(await c.read("secret/data/b")).toBeNull();
    expect(await c.read("secret/data/b")).toBeNull();
  });

  it("reports retries by verb only and each change of the circuit's state (for the metrics)", async () => {
    const events: string[] = [];
    const c = client({
      retryAttempts: 1,
      breakerThreshold: 2,
      breakerOpenMs: 300,
      events: {
        retry: (verb) => events.push(`retry ${verb}`),
        circuitState: (state) => events.push(`circuit ${state}`),
      },
    });
    vault.faults.failNext(2, 503);
    expect((await failure(c.read("secret/data/app-key-7"))).kind).toBe("unavailable");
    expect((await failure(c.read("secret/data/app-key-7"))).kind).toBe("circuit-open");
    await sleep(350);
    expect(await c.read("secret/data/app-key-7")).toBeNull();
    expect(events).toEqual(["circuit closed", "retry read", "circuit open", "circuit closed"]);
    // A path holds key ids: never a label.
    expect(events.join(" ")).not.toContain("app-key-7");
  });

  it("bounds calls in flight and waiting: one beyond both is refused at once", async () => {
    const c = client({ maxInFlight: 2, maxWaiting: 1 });
    vault.faults.latencyMs = 200;
    const results = await Promise.allSettled([1, 2, 3, 4].map(() => c.read("secret/data/busy")));
    const refused = results.filter((r) => r.status === "rejected");
    expect(refused.length).toBe(1);
    expect(((refused[0] as PromiseRejectedResult).reason as VaultRequestError).kind).toBe(
      "overloaded",
    );
  });

  it("reads health, sealed or not; an absent Vault is unavailable", async () => {
    const c = client();
    expect(await c.health()).toEqual({ initialized: true, sealed: false, standby: false });
    vault.faults.sealed = true;
    expect((await c.health()).sealed).toBe(true);
    const down = client({ address: "http://127.0.0.1:9", retryAttempts: 0 });
    expect((await failure(down.health())).kind).toBe("unavailable");
  });
});

describe("AppRole", () => {
  it("logs in, renews before the TTL runs out, and logs in again when its token has expired", async () => {
    const secretId = "approle-secret-never-logged";
    vault.addAppRole({ roleId: "gw", secretId, token: { ttlSeconds: 2 } });
    const c = client({ auth: { approle: { roleId: "gw", secretId, mount: "approle" } } });
    const mark = vault.requests.length;
    await c.login();
    const login = requestsSince(mark);
    expect(login).toHaveLength(1);
    expect(login[0]).toMatchObject({ path: "auth/approle/login", token: null });
    // Renewal is due at two thirds of the 2 s TTL.
    await sleep(1_700);
    expect(
      requestsSince(mark).some((r) => r.path === "auth/token/renew-self" && r.status === 200),
    ).toBe(true);
    // Expire the current token behind the client's back: the next call logs in again.
    const current = requestsSince(mark).at(-1)?.token as string;
    vault.expireToken(current);
    const before = vault.requests.length;
    await c.write("secret/data/after-expiry", { data: { ok: "yes" } });
    expect(requestsSince(before).map((r) => `${r.path} ${r.status}`)).toEqual([
      "secret/data/after-expiry 403",
      "auth/approle/login 200",
      "secret/data/after-expiry 200",
    ]);
    const everything = JSON.stringify(logLines);
    expect(everything).not.toContain(secretId);
    expect(everything).not.toContain(current);
  });

  it("refuses a wrong secret id at login without naming it", async () => {
    const wrong = "wrong-secret-id-value";
    const error = await failure(
      client({ auth: { approle: { roleId: "gw", secretId: wrong, mount: "approle" } } }).login(),
    );
    expect(error).toMatchObject({ kind: "rejected", status: 400 });
    expect(error.message).not.toContain(wrong);
  });
});
