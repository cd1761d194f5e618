import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GatewayProcess, startGateway } from "../helpers/gateway-process.js";
import { type RestAnswer, signedFetch, testCredentials } from "../helpers/signed-fetch.js";

// One case per row of contract §4 that this issue can reach, over REST. Every
// error body is {"code", "message"} with the documented status.

const api = "/rustfs/admin/v3/kms";
let gw: GatewayProcess;
let keyId = "";
let pendingId = "";

beforeAll(async () => {
  gw = await startGateway();
  const created = await signedFetch(gw.url, "POST", `${api}/keys`, {
    body: '{"Tags":{"name":"errors-key"}}',
  });
  keyId = (created.json as { key_id: string }).key_id;
  await signedFetch(gw.url, "POST", `${api}/keys`, { body: '{"Tags":{"name":"errors-pending"}}' });
  pendingId = "errors-pending";
  await signedFetch(gw.url, "DELETE", `${api}/keys/delete`, {
    body: JSON.stringify({ key_id: pendingId }),
  });
});
afterAll(async () => {
  await gw?.stop();
});

function expectError(res: RestAnswer, status: number, code: string, message?: RegExp): void {
  expect({ status: res.status, code: (res.json as { code?: string })?.code }).toEqual({
    status,
    code,
  });
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  expect(Object.keys(res.json as object).sort()).toEqual(["code", "message"]);
  const text = (res.json as { message: string }).message;
  expect(text.length).toBeGreaterThan(0);
  if (message) expect(text).toMatch(message);
}

describe("400 InvalidRequest", () => {
  it("malformed JSON", async () => {
    expectError(
      await signedFetch(gw.url, "POST", `${api}/keys`, { body: '{"Description": ' }),
      400,
      "InvalidRequest",
      /JSON/i,
    );
  });
  it("unknown field, named in the message", async () => {
    expectError(
      await signedFetch(gw.url, "POST", `${api}/keys`, { body: '{"Colour":"red"}' }),
      400,
      "InvalidRequest",
      /Colour/,
    );
  });
  it.each([6, 31])("pending window of %i days", async (days) => {
    const body = JSON.stringify({ key_id: keyId, pending_window_in_days: days });
    expectError(
      await signedFetch(gw.url, "DELETE", `${api}/keys/delete`, { body }),
      400,
      "InvalidRequest",
      /7/,
    );
  });
  it.each(["abc", "-1", "1.5"])("bad limit %s", async (limit) => {
    expectError(
      await signedFetch(gw.url, "GET", `${api}/keys`, { query: { limit } }),
      400,
      "InvalidRequest",
    );
  });
  it("unknown key_spec", async () => {
    const body = JSON.stringify({ key_id: keyId, key_spec: "AES_512" });
    expectError(
      await signedFetch(gw.url, "POST", `${api}/generate-data-key`, { body }),
      400,
      "InvalidRequest",
    );
  });
  it("invalid key id", async () => {
    expectError(
      await signedFetch(gw.url, "POST", `${api}/keys`, { body: '{"Tags":{"name":"a/b"}}' }),
      400,
      "InvalidRequest",
    );
  });
});

describe("401 AccessDenied", () => {
  it("unsigned", async () => {
    expectError(
      await signedFetch(gw.url, "GET", `${api}/status`, { credentials: null }),
      401,
      "AccessDenied",
      /authentication required/,
    );
  });
  it("wrong secret", async () => {
    const credentials = {
      accessKeyId: testCredentials.accessKeyId,
      secretAccessKey: "wrong-secret",
    };
    expectError(
      await signedFetch(gw.url, "GET", `${api}/status`, { credentials }),
      401,
      "AccessDenied",
    );
  });
  it("unknown access key", async () => {
    const credentials = { accessKeyId: "nobody", secretAccessKey: testCredentials.secretAccessKey };
    expectError(
      await signedFetch(gw.url, "GET", `${api}/status`, { credentials }),
      401,
      "AccessDenied",
    );
  });
  it("date skewed by 16 minutes", async () => {
    const signingDate = new Date(Date.now() - 16 * 60_000);
    expectError(
      await signedFetch(gw.url, "GET", `${api}/status`, { signingDate }),
      401,
      "AccessDenied",
    );
  });
  it("tampered body", async () => {
    const res = await signedFetch(gw.url, "POST", `${api}/keys`, {
      body: '{"Description":"a"}',
      afterSigning: (req) => {
        req.body = '{"Description":"b"}';
      },
    });
    expectError(res, 401, "AccessDenied");
  });
  it("comes before input validation: an unsigned malformed body is 401, not 400", async () => {
    expectError(
      await signedFetch(gw.url, "POST", `${api}/keys`, { body: "{", credentials: null }),
      401,
      "AccessDenied",
    );
  });
});

describe("unauthenticated endpoints", () => {
  it("GET /health answers 200 with no signature, and 405 to other methods", async () => {
    const ok = await fetch(`${gw.url}/health`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ status: "ok" });
    const post = await fetch(`${gw.url}/health`, { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
  });
});

describe("404, 405, 409, 413", () => {
  it("404 NotFound for an unknown key", async () => {
    expectError(await signedFetch(gw.url, "GET", `${api}/keys/no-such-key`), 404, "NotFound");
  });
  it("405 MethodNotAllowed for a wrong method on a known path, with Allow", async () => {
    const res = await signedFetch(gw.url, "PUT", `${api}/keys`);
    expectError(res, 405, "MethodNotAllowed");
    expect(res.headers.get("allow")).toMatch(/GET/);
    expect(res.headers.get("allow")).toMatch(/POST/);
  });
  it("409 configure while running", async () => {
    expectError(
      await signedFetch(gw.url, "POST", `${api}/configure`, { body: '{"backend_type":"local"}' }),
      409,
      "Conflict",
      /already running/,
    );
  });
  it("409 start while running", async () => {
    expectError(await signedFetch(gw.url, "POST", `${api}/start`), 409, "Conflict");
  });
  it("409 duplicate key name", async () => {
    expectError(
      await signedFetch(gw.url, "POST", `${api}/keys`, { body: '{"Tags":{"name":"errors-key"}}' }),
      409,
      "Conflict",
    );
  });
  it("409 cancel on a key not pending deletion", async () => {
    const body = JSON.stringify({ key_id: keyId });
    expectError(
      await signedFetch(gw.url, "POST", `${api}/keys/cancel-deletion`, { body }),
      409,
      "Conflict",
    );
  });
  it("409 generate on a key pending deletion", async () => {
    const body = JSON.stringify({ key_id: pendingId });
    expectError(
      await signedFetch(gw.url, "POST", `${api}/generate-data-key`, { body }),
      409,
      "Conflict",
    );
  });
  it("413 for a body over 1 MiB", async () => {
    const body = JSON.stringify({ Description: "x".repeat(1024 * 1024) });
    expectError(await signedFetch(gw.url, "POST", `${api}/keys`, { body }), 413, "InvalidRequest");
  });
});

describe("503 ServiceUnavailable", () => {
  it("a key call while the service is stopped", async () => {
    expect((await signedFetch(gw.url, "POST", `${api}/stop`)).status).toBe(200);
    try {
      expectError(
        await signedFetch(gw.url, "GET", `${api}/keys/${keyId}`),
        503,
        "ServiceUnavailable",
      );
      expectError(await signedFetch(gw.url, "GET", `${api}/keys`), 503, "ServiceUnavailable");
    } finally {
      expect((await signedFetch(gw.url, "POST", `${api}/start`)).status).toBe(200);
    }
  });
});
