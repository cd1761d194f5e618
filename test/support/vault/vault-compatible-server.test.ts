import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  startVaultCompatibleServer,
  type VaultCompatibleServer,
} from "./vault-compatible-server.js";

// The Vault-compatible test server answers as Vault's API docs say Vault does:
// these checks pin the behaviour the Vault backend's tests will rely on.

let vault: VaultCompatibleServer;
beforeAll(async () => {
  vault = await startVaultCompatibleServer({ namespaces: ["tenant-a"] });
});
afterAll(async () => {
  await vault?.close();
});

interface CallOptions {
  token?: string | null;
  namespace?: string;
}

async function call(method: string, path: string, body?: unknown, options: CallOptions = {}) {
  const headers: Record<string, string> = {};
  const token = options.token === undefined ? vault.rootToken : options.token;
  if (token !== null) headers["X-Vault-Token"] = token;
  if (options.namespace) headers["X-Vault-Namespace"] = options.namespace;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(`${vault.url}/v1/${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  // biome-ignore lint/suspicious/noExplicitAny: Vault's JSON, read field by field below
  const json: any = text === "" ? null : JSON.parse(text);
  return { status: res.status, json };
}

const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("sys and auth", () => {
  it("answers sys/health without a token, and 503 while sealed", async () => {
    const up = await call("GET", "sys/health", undefined, { token: null });
    expect(up.status).toBe(200);
    expect(up.json).toMatchObject({ initialized: true, sealed: false, standby: false });
    vault.faults.sealed = true;
    try {
      expect((await call("GET", "sys/health", undefined, { token: null })).status).toBe(503);
      const sealed = await call("GET", "transit/keys?list=true");
      expect(sealed).toEqual({ status: 503, json: { errors: ["Vault is sealed"] } });
    } finally {
      vault.faults.sealed = false;
    }
  });

  it("refuses a missing, unknown or expired token with 403 permission denied", async () => {
    const denied = { status: 403, json: { errors: ["permission denied"] } };
    expect(await call("GET", "sys/mounts", undefined, { token: null })).toEqual(denied);
    expect(await call("GET", "sys/mounts", undefined, { token: "hvs.nope" })).toEqual(denied);
    const token = vault.createToken({ ttlSeconds: 60 });
    expect((await call("GET", "sys/mounts", undefined, { token })).status).toBe(200);
    vault.expireToken(token);
    expect(await call("GET", "sys/mounts", undefined, { token })).toEqual(denied);
  });

  it("lists the mounts with their types", async () => {
    const { json } = await call("GET", "sys/mounts");
    expect(json.data["transit/"]).toMatchObject({ type: "transit" });
    expect(json.data["secret/"]).toMatchObject({ type: "kv", options: { version: "2" } });
    expect((await call("GET", "sys/mounts/transit")).json.data).toMatchObject({ type: "transit" });
  });

  it("looks a token up and renews it; a non-renewable one is refused", async () => {
    const token = vault.createToken({ ttlSeconds: 30, policies: ["kms"] });
    const looked = await call("GET", "auth/token/lookup-self", undefined, { token });
    expect(looked.json.data).toMatchObject({ id: token, policies: ["kms"], renewable: true });
    expect(looked.json.data.ttl).toBeGreaterThan(25);
    const renewed = await call("POST", "auth/token/renew-self", { increment: 120 }, { token });
    expect(renewed.json.auth).toMatchObject({
      client_token: token,
      lease_duration: 120,
      renewable: true,
    });
    const fixed = vault.createToken({ renewable: false });
    expect(await call("POST", "auth/token/renew-self", {}, { token: fixed })).toEqual({
      status: 400,
      json: { errors: ["lease is not renewable"] },
    });
  });

  it("logs in with AppRole and refuses a wrong secret id", async () => {
    vault.addAppRole({ roleId: "role-1", secretId: "secret-1", token: { ttlSeconds: 5 } });
    const login = await call(
      "POST",
      "auth/approle/login",
      { role_id: "role-1", secret_id: "secret-1" },
      { token: null },
    );
    expect(login.status).toBe(200);
    const token = login.json.auth.client_token as string;
    expect(login.json.auth).toMatchObject({ lease_duration: 5, renewable: true });
    expect((await call("GET", "auth/token/lookup-self", undefined, { token })).status).toBe(200);
    const wrong = await call(
      "POST",
      "auth/approle/login",
      { role_id: "role-1", secret_id: "x" },
      { token: null },
    );
    expect(wrong).toEqual({ status: 400, json: { errors: ["invalid role or secret ID"] } });
  });

  it("limits a path-restricted token to its paths", async () => {
    const token = vault.createToken({ pathPrefixes: ["transit/"] });
    expect((await call("GET", "secret/data/x", undefined, { token })).status).toBe(403);
    expect((await call("POST", "transit/keys/restricted", {}, { token })).status).toBe(204);
  });
});

describe("transit", () => {
  it("creates, reads, encrypts and decrypts with vault:vN: ciphertexts; export is refused", async () => {
    expect((await call("POST", "transit/keys/app", { type: "aes256-gcm96" })).status).toBe(204);
    const read = await call("GET", "transit/keys/app");
    expect(read.json.data).toMatchObject({
      name: "app",
      type: "aes256-gcm96",
      latest_version: 1,
      deletion_allowed: false,
    });
    expect(Object.keys(read.json.data.keys)).toEqual(["1"]);
    const enc = await call("POST", "transit/encrypt/app", { plaintext: b64("hello") });
    expect(enc.json.data.ciphertext).toMatch(/^vault:v1:[A-Za-z0-9+/=]+$/);
    const dec = await call("POST", "transit/decrypt/app", { ciphertext: enc.json.data.ciphertext });
    expect(Buffer.from(dec.json.data.plaintext, "base64").toString()).toBe("hello");
    expect((await call("GET", "transit/export/encryption-key/app")).json).toEqual({
      errors: ["key is not exportable"],
    });
    expect((await call("GET", "transit/keys/none")).json).toEqual({ errors: [] });
  });

  it("binds associated_data: another one fails with Vault's authentication error", async () => {
    const enc = await call("POST", "transit/encrypt/app", {
      plaintext: b64("k"),
      associated_data: b64("ctx-1"),
    });
    const ok = await call("POST", "transit/decrypt/app", {
      ciphertext: enc.json.data.ciphertext,
      associated_data: b64("ctx-1"),
    });
    expect(ok.status).toBe(200);
    const bad = await call("POST", "transit/decrypt/app", {
      ciphertext: enc.json.data.ciphertext,
      associated_data: b64("ctx-2"),
    });
    expect(bad).toEqual({
      status: 400,
      json: { errors: ["cipher: message authentication failed"] },
    });
  });

  it("derives per-context keys: the context is required and must match", async () => {
    await call("POST", "transit/keys/derived", { derived: true });
    const missing = await call("POST", "transit/encrypt/derived", { plaintext: b64("x") });
    expect(missing.status).toBe(400);
    expect(missing.json.errors[0]).toMatch(/missing 'context' for key derivation/);
    const enc = await call("POST", "transit/encrypt/derived", {
      plaintext: b64("x"),
      context: b64("a"),
    });
    expect(
      (
        await call("POST", "transit/decrypt/derived", {
          ciphertext: enc.json.data.ciphertext,
          context: b64("a"),
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await call("POST", "transit/decrypt/derived", {
          ciphertext: enc.json.data.ciphertext,
          context: b64("b"),
        })
      ).status,
    ).toBe(400);
  });

  it("rotates: new ciphertexts use the newest version, old ones still decrypt; min_decryption_version retires them", async () => {
    const v1 = (await call("POST", "transit/encrypt/app", { plaintext: b64("one") })).json.data
      .ciphertext;
    expect((await call("POST", "transit/keys/app/rotate")).status).toBe(204);
    const v2 = (await call("POST", "transit/encrypt/app", { plaintext: b64("two") })).json.data
      .ciphertext;
    expect(v2).toMatch(/^vault:v2:/);
    expect((await call("POST", "transit/decrypt/app", { ciphertext: v1 })).status).toBe(200);
    const rewrapped = await call("POST", "transit/rewrap/app", { ciphertext: v1 });
    expect(rewrapped.json.data.ciphertext).toMatch(/^vault:v2:/);
    await call("POST", "transit/keys/app/config", { min_decryption_version: 2 });
    expect((await call("POST", "transit/decrypt/app", { ciphertext: v1 })).json.errors[0]).toMatch(
      /too old/,
    );
  });

  it("generates data keys with and without the plaintext", async () => {
    const plain = await call("POST", "transit/datakey/plaintext/app", { bits: 256 });
    expect(Buffer.from(plain.json.data.plaintext, "base64")).toHaveLength(32);
    const back = await call("POST", "transit/decrypt/app", {
      ciphertext: plain.json.data.ciphertext,
    });
    expect(back.json.data.plaintext).toBe(plain.json.data.plaintext);
    const wrapped = await call("POST", "transit/datakey/wrapped/app", {});
    expect(wrapped.json.data.plaintext).toBeUndefined();
    expect(wrapped.json.data.ciphertext).toMatch(/^vault:v2:/);
  });

  it("deletes a key only once deletion_allowed is set; lists keys, an empty list is 404", async () => {
    await call("POST", "transit/keys/doomed", {});
    expect((await call("GET", "transit/keys?list=true")).json.data.keys).toContain("doomed");
    expect((await call("DELETE", "transit/keys/doomed")).json).toEqual({
      errors: ["deletion is not allowed for this key"],
    });
    await call("POST", "transit/keys/doomed/config", { deletion_allowed: true });
    expect((await call("DELETE", "transit/keys/doomed")).status).toBe(204);
    expect(
      (await call("POST", "transit/decrypt/doomed", { ciphertext: "vault:v1:AAAA" })).json,
    ).toEqual({
      errors: ["encryption key not found"],
    });
    expect(
      await call("GET", "transit/keys?list=true", undefined, { namespace: "tenant-a" }),
    ).toEqual({
      status: 404,
      json: { errors: [] },
    });
  });
});

describe("kv v2", () => {
  it("writes with check-and-set: cas 0 creates once, then the current version is required", async () => {
    const created = await call("POST", "secret/data/kms/keys/k1", {
      data: { state: "Enabled" },
      options: { cas: 0 },
    });
    expect(created.json.data).toMatchObject({ version: 1, destroyed: false, deletion_time: "" });
    const again = await call("POST", "secret/data/kms/keys/k1", {
      data: { state: "x" },
      options: { cas: 0 },
    });
    expect(again).toEqual({
      status: 400,
      json: { errors: ["check-and-set parameter did not match the current version"] },
    });
    const updated = await call("POST", "secret/data/kms/keys/k1", {
      data: { state: "Disabled" },
      options: { cas: 1 },
    });
    expect(updated.json.data.version).toBe(2);
    const read = await call("GET", "secret/data/kms/keys/k1");
    expect(read.json.data).toMatchObject({ data: { state: "Disabled" }, metadata: { version: 2 } });
    expect((await call("GET", "secret/data/kms/keys/k1?version=1")).json.data.data).toEqual({
      state: "Enabled",
    });
  });

  it("lists a folder's children (folders end in /); an empty folder is 404 with no errors", async () => {
    await call("POST", "secret/data/kms/keys/k2", { data: { a: "1" } });
    await call("POST", "secret/data/kms/other/deep", { data: { a: "1" } });
    expect((await call("GET", "secret/metadata/kms/keys?list=true")).json.data.keys).toEqual([
      "k1",
      "k2",
    ]);
    expect((await call("GET", "secret/metadata/kms?list=true")).json.data.keys).toEqual([
      "keys/",
      "other/",
    ]);
    expect(await call("GET", "secret/metadata/nothing?list=true")).toEqual({
      status: 404,
      json: { errors: [] },
    });
  });

  it("soft-deletes the latest version (404 with metadata) and removes a secret with its metadata", async () => {
    expect((await call("DELETE", "secret/data/kms/keys/k2")).status).toBe(204);
    const gone = await call("GET", "secret/data/kms/keys/k2");
    expect(gone.status).toBe(404);
    expect(gone.json.data.metadata.deletion_time).not.toBe("");
    expect((await call("GET", "secret/metadata/kms/keys/k1")).json.data).toMatchObject({
      current_version: 2,
    });
    expect((await call("DELETE", "secret/metadata/kms/keys/k1")).status).toBe(204);
    expect(await call("GET", "secret/data/kms/keys/k1")).toEqual({
      status: 404,
      json: { errors: [] },
    });
  });

  it("keeps namespaces apart", async () => {
    await call("POST", "secret/data/only-in-a", { data: { x: "1" } }, { namespace: "tenant-a" });
    expect(
      (await call("GET", "secret/data/only-in-a", undefined, { namespace: "tenant-a" })).status,
    ).toBe(200);
    expect((await call("GET", "secret/data/only-in-a")).status).toBe(404);
    expect((await call("GET", "secret/data/x", undefined, { namespace: "no-such" })).status).toBe(
      404,
    );
  });
});

describe("faults and the request log", () => {
  it("fails the next requests with an injected status, then recovers", async () => {
    vault.faults.failNext(2, 503);
    expect((await call("GET", "sys/mounts")).status).toBe(503);
    expect((await call("GET", "sys/mounts")).json).toEqual({ errors: ["injected fault"] });
    expect((await call("GET", "sys/mounts")).status).toBe(200);
  });

  it("drops a connection without an answer", async () => {
    vault.faults.dropNext(1);
    await expect(call("GET", "sys/mounts")).rejects.toThrow();
    expect((await call("GET", "sys/mounts")).status).toBe(200);
  });

  it("adds latency", async () => {
    vault.faults.latencyMs = 150;
    try {
      const started = performance.now();
      await call("GET", "sys/mounts");
      expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    } finally {
      vault.faults.latencyMs = 0;
    }
  });

  it("records each request's method, path, namespace, token and body", async () => {
    const before = vault.requests.length;
    await call(
      "POST",
      "transit/encrypt/app",
      { plaintext: b64("logged") },
      { namespace: "tenant-a" },
    );
    const [entry] = vault.requests.slice(before);
    expect(entry).toMatchObject({
      method: "POST",
      path: "transit/encrypt/app",
      namespace: "tenant-a",
      token: vault.rootToken,
      body: { plaintext: b64("logged") },
      status: 200,
    });
    expect(vault.transit("transit", "tenant-a").keyNames()).toEqual(["app"]);
  });
});
