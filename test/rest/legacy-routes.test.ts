import { createContextValues } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { KmsAdminService } from "../../gen/kms/admin/v1/service_pb.js";
import { createLegacyRoutes, globMatcher, MAX_LISTED } from "../../src/rest/legacy-routes.js";
import type { RestRequest } from "../../src/rest/rest-transcoder.js";
import { createRestTranscoder } from "../../src/rest/rest-transcoder.js";
import { fakeImplementation } from "./fake-implementation.js";

// The compatibility adapter in isolation, over the real transcoder and a fake
// implementation that records what each adapted request became.

function request(method: string, target: string, body = ""): RestRequest {
  const q = target.indexOf("?");
  return {
    method,
    rawPath: q < 0 ? target : target.slice(0, q),
    rawQuery: q < 0 ? "" : target.slice(q + 1),
    headers: new Headers({ host: "127.0.0.1:9000" }),
    body: new TextEncoder().encode(body),
    contextValues: createContextValues(),
    signal: new AbortController().signal,
  };
}

function setup(overrides: Parameters<typeof fakeImplementation>[0] = {}) {
  const { impl, calls } = fakeImplementation(overrides);
  const routes = createLegacyRoutes({
    version: "kms-gateway test",
    rest: createRestTranscoder({
      service: KmsAdminService,
      implementation: impl,
      pathAliases: { "/minio/admin/v3/": "/rustfs/admin/v3/" },
    }),
  });
  const send = async (method: string, target: string, body = "") => {
    const res = await routes.handle(request(method, target, body));
    return { ...res, json: res.body === "" ? undefined : (JSON.parse(res.body) as unknown) };
  };
  return { routes, calls, send };
}

describe("createLegacyRoutes", () => {
  it("claims MinIO's KMS router besides the transcoder's prefixes", () => {
    const { routes } = setup();
    expect(routes.handles("/minio/kms/v1/key/list")).toBe(true);
    expect(routes.handles("/rustfs/admin/v3/kms/keys")).toBe(true);
    expect(routes.handles("/minio/admin/v3/kms/keys")).toBe(true);
    expect(routes.handles("/minio/kms/v2/key/list")).toBe(false);
    expect(routes.handles("/elsewhere")).toBe(false);
  });

  it("turns key/create?key-id=NAME into CreateKey with the name tag, merged into a body", async () => {
    const { send, calls } = setup();
    expect((await send("POST", "/minio/kms/v1/key/create?key-id=alpha")).status).toBe(200);
    expect(calls.at(-1)?.request).toMatchObject({ tags: { name: "alpha" } });
    const withBody = await send(
      "POST",
      "/rustfs/admin/v3/kms/key/create?key-id=beta",
      '{"Description":"d","Tags":{"team":"x"}}',
    );
    expect(withBody.status).toBe(200);
    expect(calls.at(-1)?.request).toMatchObject({
      description: "d",
      tags: { name: "beta", team: "x" },
    });
    const clash = await send(
      "POST",
      "/rustfs/admin/v3/kms/key/create?key-id=beta",
      '{"tags":{"name":"gamma"}}',
    );
    expect(clash.status).toBe(400);
    // Without key-id it is create-key, body and all.
    await send("POST", "/minio/admin/v3/kms/key/create", '{"Description":"plain"}');
    expect(calls.at(-1)?.request).toMatchObject({ description: "plain", tags: {} });
  });

  it("refuses a key/create body that is not a JSON object, without calling CreateKey", async () => {
    const { send, calls } = setup();
    for (const body of ["[1]", "{oops", `{"Tags":${"[".repeat(200)}${"]".repeat(200)}}`]) {
      const res = await send("POST", "/minio/kms/v1/key/create?key-id=a", body);
      expect(res.status).toBe(400);
      expect(res.json).toMatchObject({ code: "InvalidRequest" });
    }
    expect(calls).toHaveLength(0);
  });

  it("reads describe-key's id from keyId, key-id or key, first non-empty first", async () => {
    const { send, calls } = setup();
    await send("GET", "/rustfs/admin/v3/kms/describe-key?key=c&key-id=b&keyId=");
    expect(calls.at(-1)?.request).toMatchObject({ keyId: "b" });
    await send("GET", "/minio/admin/v3/kms/describe-key?key=c");
    expect(calls.at(-1)?.request).toMatchObject({ keyId: "c" });
    const none = await send("GET", "/rustfs/admin/v3/kms/describe-key");
    expect(none.status).toBe(400);
  });

  it("key/status wraps and unwraps a fresh value and reports each failure in its field", async () => {
    let plaintext: Uint8Array = new Uint8Array();
    const working = setup({
      encrypt: (req) => {
        plaintext = req.plaintext;
        return { keyId: "k", ciphertextBlob: new Uint8Array([9]) };
      },
      decrypt: () => ({ keyId: "k", plaintextKey: plaintext }),
    });
    const ok = await working.send("GET", "/minio/kms/v1/key/status?key-id=k");
    expect(ok.json).toEqual({
      "key-id": "k",
      key_metadata: expect.objectContaining({ key_id: "k" }),
    });
    expect(plaintext.length).toBe(32);
    expect(working.calls.map((c) => c.method)).toEqual(["describeKey", "encrypt", "decrypt"]);

    const lying = setup({
      encrypt: () => ({ keyId: "k", ciphertextBlob: new Uint8Array([9]) }),
      decrypt: () => ({ keyId: "k", plaintextKey: new Uint8Array([1, 2]) }),
    });
    const differs = await lying.send("GET", "/minio/kms/v1/key/status?key-id=k");
    expect(differs.json).toMatchObject({ "decryption-error": expect.stringMatching(/differs/) });
  });

  it("key/status without a key uses the default key, or says there is none", async () => {
    const none = setup();
    const answer = await none.send("GET", "/minio/kms/v1/key/status?key-id=");
    expect(answer.status).toBe(400);
    expect(answer.json).toMatchObject({ message: expect.stringMatching(/no default key/) });
  });

  it("walks the whole list for MinIO's unpaged key/list, bounded by MAX_LISTED", async () => {
    const limits: number[] = [];
    const { send } = setup({
      listKeys: (req) => {
        limits.push(req.limit ?? -1);
        const start = Number(req.marker ?? "-1") + 1;
        const ids = Array.from({ length: req.limit ?? 0 }, (_, i) => String(start + i));
        return {
          keys: ids.map((keyId) => ({ keyId, keyState: "Enabled" })),
          truncated: true,
          nextMarker: ids.at(-1),
        };
      },
    });
    const listed = (await send("GET", "/minio/kms/v1/key/list?pattern=*")).json as unknown[];
    expect(listed).toHaveLength(MAX_LISTED);
    expect(limits.reduce((a, b) => a + b, 0)).toBe(MAX_LISTED);
  });

  it("refuses force_immediate or confirm_key_id in the delete query", async () => {
    const { send, calls } = setup();
    for (const query of ["keyId=k&force_immediate=false", "keyId=k&confirm_key_id=k"]) {
      expect((await send("DELETE", `/rustfs/admin/v3/kms/keys/delete?${query}`)).status).toBe(400);
    }
    expect(calls).toHaveLength(0);
    expect((await send("DELETE", "/minio/admin/v3/kms/keys/delete?keyId=k")).status).toBe(200);
  });

  it("answers MinIO router paths it does not serve with 404, and passes everything else on", async () => {
    const { send } = setup();
    expect((await send("GET", "/minio/kms/v1/metrics")).status).toBe(404);
    expect((await send("GET", "/rustfs/admin/v3/kms/config")).status).toBe(200);
  });
});

describe("globMatcher", () => {
  it("matches * and ? and nothing else specially", () => {
    expect(globMatcher("")("anything")).toBe(true);
    expect(globMatcher("app-*")("app-1")).toBe(true);
    expect(globMatcher("app-*")("xapp-1")).toBe(false);
    expect(globMatcher("k?y")("key")).toBe(true);
    expect(globMatcher("a.b")("axb")).toBe(false);
    expect(globMatcher("(a)+")("(a)+")).toBe(true);
  });
});
