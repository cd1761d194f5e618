import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextKey, createContextValues } from "@connectrpc/connect";
import { describe, expect, it, vi } from "vitest";
import { DescribeKeyResponseSchema, KmsAdminService } from "../../gen/kms/admin/v1/service_pb.js";
import type { RestRequest, RestTranscoderOptions } from "../../src/rest/rest-transcoder.js";
import { createRestTranscoder } from "../../src/rest/rest-transcoder.js";
import { fakeImplementation } from "./fake-implementation.js";
import { syntheticService } from "./synthetic-service.js";

const P = "/rustfs/admin/v3/kms";

function request(
  method: string,
  target: string,
  body: string | Uint8Array | object = "",
  headers: Record<string, string> = {},
): RestRequest {
  const q = target.indexOf("?");
  return {
    method,
    rawPath: q < 0 ? target : target.slice(0, q),
    rawQuery: q < 0 ? "" : target.slice(q + 1),
    headers: new Headers({ host: "127.0.0.1:9000", ...headers }),
    body:
      body instanceof Uint8Array
        ? body
        : new TextEncoder().encode(typeof body === "string" ? body : JSON.stringify(body)),
    contextValues: createContextValues(),
    signal: new AbortController().signal,
  };
}

function setup(
  overrides: Parameters<typeof fakeImplementation>[0] = {},
  options: Partial<RestTranscoderOptions<typeof KmsAdminService>> = {},
) {
  const { impl, calls } = fakeImplementation(overrides);
  const transcoder = createRestTranscoder({
    service: KmsAdminService,
    implementation: impl,
    pathAliases: { "/minio/admin/v3/": "/rustfs/admin/v3/" },
    ...options,
  });
  const send = async (...args: Parameters<typeof request>) => {
    const res = await transcoder.handle(request(...args));
    const text = res.body;
    return {
      ...res,
      // Read through WHATWG Headers, as a client would: names case-insensitive.
      headers: new Headers(res.headers),
      text,
      json: text === "" ? undefined : (JSON.parse(text) as unknown),
    };
  };
  return { transcoder, calls, send };
}

describe("createRestTranscoder: success responses", () => {
  it("answers 200 JSON with Cache-Control: no-store", async () => {
    const { send, calls } = setup();
    const res = await send("GET", `${P}/status`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.json).toStrictEqual({
      status: "NotConfigured",
      backend_type: null,
      healthy: false,
      config_summary: null,
      cache_stats: null,
    });
    expect(calls.map((c) => c.method)).toEqual(["getStatus"]);
  });

  it("serves both GetStatus bindings and the MinIO prefix alias", async () => {
    const { send, calls } = setup();
    for (const path of [`${P}/status`, `${P}/service-status`, "/minio/admin/v3/kms/status"]) {
      expect((await send("GET", path)).status).toBe(200);
    }
    expect(calls.map((c) => c.method)).toEqual(["getStatus", "getStatus", "getStatus"]);
  });

  it("answers 204 with an empty body for an output without fields (ClearCache)", async () => {
    const { send, calls } = setup();
    const res = await send("POST", `${P}/clear-cache`);
    expect(res.status).toBe(204);
    expect(res.body).toBe("");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("content-type")).toBeNull();
    expect(calls).toHaveLength(1);
  });

  it("writes data keys as standard base64 and never caches them", async () => {
    const { send, calls } = setup();
    const res = await send("POST", `${P}/generate-data-key`, {
      key_id: "fa5bac0e-2a2c-4f9a-a09d-2f5b8a59ed85",
      key_spec: "AES_256",
      encryption_context: { bucket: "analytics-data", object: "2024/09/18/report.parquet" },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.json).toStrictEqual({
      key_id: "fa5bac0e-2a2c-4f9a-a09d-2f5b8a59ed85",
      plaintext_key: "+/8=",
      ciphertext_blob: "AQID",
    });
    expect(calls[0]?.request).toMatchObject({
      keyId: "fa5bac0e-2a2c-4f9a-a09d-2f5b8a59ed85",
      keySpec: "AES_256",
      encryptionContext: { bucket: "analytics-data", object: "2024/09/18/report.parquet" },
    });
  });

  it("accepts a handler that returns a message rather than an init object", async () => {
    const { send } = setup({
      describeKey: (req) =>
        create(DescribeKeyResponseSchema, { keyMetadata: { keyId: req.keyId } }),
    });
    const res = await send("GET", `${P}/keys/abc`);
    expect(res.json).toMatchObject({ key_metadata: { key_id: "abc", deletion_date: null } });
  });

  it("passes handler response headers but keeps its own representation headers", async () => {
    const { send } = setup({
      getStatus: (_req, ctx) => {
        ctx.responseHeader.set("x-kms-note", "hello");
        ctx.responseHeader.set("content-type", "text/html");
        ctx.responseHeader.set("cache-control", "max-age=3600");
        return { status: "Running" };
      },
    });
    const res = await send("GET", `${P}/status`);
    expect(res.headers.get("x-kms-note")).toBe("hello");
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("cache-control")).toBe("no-store");
  });

  it("gives the handler a REST context with headers, context values and signal", async () => {
    const identity = createContextKey<string>("nobody");
    const { transcoder, calls } = setup();
    const req = request("GET", `${P}/keys/abc?x-amz-date=1`, "", { "x-trace": "t1" });
    req.contextValues.set(identity, "alice");
    const controller = new AbortController();
    req.signal = controller.signal;
    await transcoder.handle(req);
    const ctx = calls[0]?.context;
    expect(ctx?.protocolName).toBe("rest");
    expect(ctx?.requestMethod).toBe("GET");
    expect(ctx?.method).toBe(KmsAdminService.method.describeKey);
    expect(ctx?.service).toBe(KmsAdminService);
    expect(ctx?.requestHeader.get("x-trace")).toBe("t1");
    expect(ctx?.values.get(identity)).toBe("alice");
    expect(ctx?.url).toBe("http://127.0.0.1:9000/rustfs/admin/v3/kms/keys/abc?x-amz-date=1");
    // The context's signal is released once the call is over.
    expect(ctx?.signal.aborted).toBe(true);
  });

  it("links the client's abort signal to the handler's", async () => {
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    const { transcoder } = setup({
      getStatus: async (_req, ctx) => {
        seen = ctx.signal;
        controller.abort();
        expect(ctx.signal.aborted).toBe(true);
        throw ctx.signal.reason;
      },
    });
    const req = request("GET", `${P}/status`);
    req.signal = controller.signal;
    const res = await transcoder.handle(req);
    expect(seen?.aborted).toBe(true);
    expect(res.status).toBe(499);
  });
});

describe("createRestTranscoder: request decoding", () => {
  it("accepts the seed's PascalCase create-key body", async () => {
    const { send, calls } = setup();
    const res = await send("POST", `${P}/keys`, {
      KeyUsage: "ENCRYPT_DECRYPT",
      Description: "project-alpha",
      Tags: { owner: "security", env: "prod" },
    });
    expect(res.status).toBe(200);
    expect(calls[0]?.request).toMatchObject({
      keyUsage: "ENCRYPT_DECRYPT",
      description: "project-alpha",
      tags: { owner: "security", env: "prod" },
    });
  });

  it("accepts snake_case create-key fields and rejects lowerCamelCase", async () => {
    const { send, calls } = setup();
    const ok = await send("POST", `${P}/keys`, {
      key_usage: "EncryptDecrypt",
      description: "d",
      tags: {},
    });
    expect(ok.status).toBe(200);
    expect(calls[0]?.request).toMatchObject({ keyUsage: "EncryptDecrypt", description: "d" });
    const bad = await send("POST", `${P}/keys`, { keyUsage: "ENCRYPT_DECRYPT" });
    expect(bad.status).toBe(400);
    expect(bad.json).toStrictEqual({ code: "InvalidRequest", message: 'unknown field "keyUsage"' });
    expect(calls).toHaveLength(1);
  });

  it("accepts an empty body as {} for body:* rules, whatever the Content-Type", async () => {
    const { send, calls } = setup();
    expect((await send("POST", `${P}/keys`)).status).toBe(200);
    const form = { "content-type": "application/x-www-form-urlencoded" };
    expect((await send("POST", `${P}/keys`, { Description: "curl -d" }, form)).status).toBe(200);
    expect(calls[1]?.request).toMatchObject({ description: "curl -d" });
  });

  it("puts the body into the named field for body:config", async () => {
    const { send, calls } = setup();
    const res = await send("POST", `${P}/configure`, {
      backend_type: "vault",
      address: "https://vault.example.com:8200",
      auth_method: { token: "s.XYZ" },
      mount_path: "transit",
      kv_mount: "secret",
      key_path_prefix: "rustfs/kms/keys",
      default_key_id: "rustfs-master",
      enable_cache: true,
      cache_ttl_seconds: 600,
      timeout_seconds: 30,
      retry_attempts: 3,
    });
    expect(res.status).toBe(200);
    expect(res.json).toStrictEqual({
      success: true,
      message: "KMS configured successfully",
      status: "Configured",
    });
    expect(calls[0]?.request).toMatchObject({
      config: { backendType: "vault", authMethod: { token: "s.XYZ" }, cacheTtlSeconds: 600 },
    });
  });

  it("fills ScheduleKeyDeletion from the seed's JSON body", async () => {
    const { send, calls } = setup();
    const res = await send("DELETE", `${P}/keys/delete`, {
      key_id: "fa5bac0e-2a2c-4f9a-a09d-2f5b8a59ed85",
      pending_window_in_days: 7,
    });
    expect(res.status).toBe(200);
    expect(calls[0]?.request).toMatchObject({
      keyId: "fa5bac0e-2a2c-4f9a-a09d-2f5b8a59ed85",
      pendingWindowInDays: 7,
    });
  });

  it("takes key_id from ?keyId= on DELETE /kms/keys/delete with no body", async () => {
    const { send, calls } = setup();
    expect((await send("DELETE", `${P}/keys/delete?keyId=abc`)).status).toBe(200);
    expect((await send("DELETE", `${P}/keys/delete?key_id=def`)).status).toBe(200);
    // Query parameters fill fields the body left unset.
    expect(
      (await send("DELETE", `${P}/keys/delete?keyId=ghi`, { pending_window_in_days: 9 })).status,
    ).toBe(200);
    expect(calls.map((c) => c.request)).toMatchObject([
      { keyId: "abc" },
      { keyId: "def" },
      { keyId: "ghi", pendingWindowInDays: 9 },
    ]);
  });

  it("refuses a field given in both the body and the query", async () => {
    const { send, calls } = setup();
    const res = await send("DELETE", `${P}/keys/delete?keyId=abc`, { keyId: "def" });
    expect(res.status).toBe(400);
    expect(res.json).toStrictEqual({
      code: "InvalidRequest",
      message: 'field "keyId" is set more than once',
    });
    expect(calls).toHaveLength(0);
  });

  it("parses ListKeys limit and marker from the query", async () => {
    const { send, calls } = setup();
    const res = await send("GET", `${P}/keys?limit=50&marker=abc%2Ddef`);
    expect(res.status).toBe(200);
    expect(calls[0]?.request).toMatchObject({ limit: 50, marker: "abc-def" });
    expect(res.json).toStrictEqual({
      keys: [
        {
          key_id: "k1",
          description: null,
          key_state: "Enabled",
          status: "",
          tags: {},
          algorithm: "",
          usage: "",
          created_at: null,
        },
      ],
      truncated: false,
      next_marker: null,
      unreadable_key_ids: [],
      success: false,
      message: "",
    });
    await send("GET", `${P}/keys`);
    expect(calls[1]?.request).not.toHaveProperty("limit");
    await send("GET", `${P}/keys?limit=0`);
    expect(calls[2]?.request).toMatchObject({ limit: 0 });
  });

  it.each([
    ["limit=abc", 'invalid value for field "limit": expected an integer'],
    ["limit=-1", 'invalid value for field "limit": out of range for uint32'],
    ["limit=1.5", 'invalid value for field "limit": expected an integer'],
    ["limit=0x10", 'invalid value for field "limit": expected an integer'],
    ["limit=", 'invalid value for field "limit": expected an integer'],
    ["limit=4294967296", 'invalid value for field "limit": out of range for uint32'],
    ["limit=1&limit=2", 'field "limit" is set more than once'],
    ["foo=1", 'unknown field "foo"'],
    ["marker=%zz", "malformed percent-encoding in the query"],
    ["marker=%E0%A4%A", "malformed percent-encoding in the query"],
  ])("rejects ?%s with 400", async (query, message) => {
    const { send, calls } = setup();
    const res = await send("GET", `${P}/keys?${query}`);
    expect(res.status).toBe(400);
    expect(res.json).toStrictEqual({ code: "InvalidRequest", message });
    expect(calls).toHaveLength(0);
  });

  it("ignores presigned SigV4 query parameters", async () => {
    const { send, calls } = setup();
    const res = await send(
      "GET",
      `${P}/keys?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a%2Fb&x-amz-signature=00&limit=5`,
    );
    expect(res.status).toBe(200);
    expect(calls[0]?.request).toMatchObject({ limit: 5 });
  });

  it("decodes path variables", async () => {
    const { send, calls } = setup();
    expect((await send("GET", `${P}/keys/my%2Ekey`)).status).toBe(200);
    expect((await send("GET", `${P}/keys/delete`)).status).toBe(200);
    expect(calls.map((c) => c.request)).toMatchObject([{ keyId: "my.key" }, { keyId: "delete" }]);
  });

  it.each([
    [`${P}/keys/%zz`, "malformed percent-encoding in the path"],
    [`${P}/keys/%C3%28`, "malformed percent-encoding in the path"],
    [`${P}/keys/`, 'path variable "key_id" is empty'],
  ])("rejects GET %s with 400", async (path, message) => {
    const { send, calls } = setup();
    const res = await send("GET", path);
    expect(res.status).toBe(400);
    expect(res.json).toStrictEqual({ code: "InvalidRequest", message });
    expect(calls).toHaveLength(0);
  });

  it.each([
    ["malformed JSON", `${P}/keys`, '{"Description": ', "invalid JSON"],
    ["invalid UTF-8", `${P}/keys`, new Uint8Array([0x7b, 0xff, 0x7d]), "invalid JSON"],
    ["an array body", `${P}/keys`, "[]", "request body must be a JSON object"],
    ["a string body", `${P}/keys`, '"x"', "request body must be a JSON object"],
    ["a null body", `${P}/keys`, "null", "request body must be a JSON object"],
    ["an unknown field", `${P}/keys`, { Description: "d", foo: 1 }, 'unknown field "foo"'],
    ["an unknown nested field", `${P}/configure`, { zzz: 1 }, 'unknown field "zzz"'],
    [
      "a wrong JSON type",
      `${P}/keys`,
      { Description: 5 },
      'invalid value for field "description": expected string',
    ],
    [
      "a wrong map value type",
      `${P}/keys`,
      { Tags: { a: 1 } },
      'invalid value for field "tags": map entry "a": expected string',
    ],
    [
      "bad base64",
      `${P}/decrypt`,
      { ciphertext_blob: "!!!" },
      'invalid value for field "ciphertext_blob": invalid base64 string',
    ],
    [
      "a number for bytes",
      `${P}/decrypt`,
      { ciphertext_blob: 5 },
      'invalid value for field "ciphertext_blob": expected base64 string',
    ],
    [
      "one field twice under two names",
      `${P}/decrypt`,
      { ciphertext_blob: "AA==", ciphertextBlob: "AA==" },
      'invalid value for field "ciphertext_blob": set multiple times',
    ],
    [
      "a non-object body field",
      `${P}/configure`,
      "5",
      "invalid value for KmsConfig: expected object",
    ],
  ])("rejects %s with 400", async (_name, path, body, message) => {
    const { send, calls } = setup();
    const res = await send("POST", path, body);
    expect(res.status).toBe(400);
    expect(res.json).toStrictEqual({ code: "InvalidRequest", message });
    expect(calls).toHaveLength(0);
  });

  it("never echoes a rejected value", async () => {
    const { send } = setup();
    const res = await send("POST", `${P}/configure`, {
      master_key: 123456789,
      backend_type: "local",
    });
    expect(res.status).toBe(400);
    expect(res.text).not.toContain("123456789");
    expect(res.json).toStrictEqual({
      code: "InvalidRequest",
      message: 'invalid value for field "master_key": expected string',
    });
  });

  it("refuses a body on a rule without body", async () => {
    const { send, calls } = setup();
    const res = await send("GET", `${P}/status`, "{}");
    expect(res.status).toBe(400);
    expect(res.json).toStrictEqual({
      code: "InvalidRequest",
      message: "this API takes no request body",
    });
    expect(calls).toHaveLength(0);
    expect((await send("GET", `${P}/status`, " \r\n")).status).toBe(200);
  });
});

describe("createRestTranscoder: 404, 405, handles()", () => {
  it("answers 404 for an unknown path under the prefix", async () => {
    const { send } = setup();
    const res = await send("GET", `${P}/nope`);
    expect(res.status).toBe(404);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.json).toStrictEqual({ code: "NotFound", message: `no such API: GET ${P}/nope` });
  });

  it("answers 405 with Allow for a known path and another method", async () => {
    const { send, calls } = setup();
    const res = await send("PUT", `${P}/keys/delete`);
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("DELETE, GET");
    expect(res.json).toMatchObject({ code: "MethodNotAllowed" });
    const status = await send("PUT", `${P}/status`);
    expect(status.status).toBe(405);
    expect(status.headers.get("allow")).toBe("GET, POST");
    expect(calls).toHaveLength(0);
  });

  it("claims the REST prefixes and nothing else", () => {
    const { transcoder } = setup();
    expect(transcoder.handles(`${P}/status`)).toBe(true);
    expect(transcoder.handles(`${P}/anything/else`)).toBe(true);
    expect(transcoder.handles(`${P}/keys/abc`)).toBe(true);
    expect(transcoder.handles("/minio/admin/v3/kms/status")).toBe(true);
    expect(transcoder.handles("/health")).toBe(false);
    expect(transcoder.handles("/kms.admin.v1.KmsAdminService/GetStatus")).toBe(false);
    expect(transcoder.handles("/rustfs/admin/v3/kms")).toBe(false);
  });

  it("refuses malformed path aliases", () => {
    expect(() =>
      createRestTranscoder({
        service: KmsAdminService,
        implementation: {},
        pathAliases: { "/minio": "/rustfs/" },
      }),
    ).toThrow(/path alias/);
  });
});

describe("createRestTranscoder: errors from the implementation", () => {
  it.each([
    [Code.InvalidArgument, 400, "InvalidRequest"],
    [Code.OutOfRange, 400, "InvalidRequest"],
    [Code.Unauthenticated, 401, "AccessDenied"],
    [Code.PermissionDenied, 403, "AccessDenied"],
    [Code.NotFound, 404, "NotFound"],
    [Code.AlreadyExists, 409, "Conflict"],
    [Code.FailedPrecondition, 409, "Conflict"],
    [Code.Aborted, 409, "Conflict"],
    [Code.ResourceExhausted, 413, "InvalidRequest"],
    [Code.Canceled, 499, "InternalError"],
    [Code.Unknown, 500, "InternalError"],
    [Code.Internal, 500, "InternalError"],
    [Code.DataLoss, 500, "InternalError"],
    [Code.Unimplemented, 501, "InternalError"],
    [Code.Unavailable, 503, "ServiceUnavailable"],
    [Code.DeadlineExceeded, 504, "ServiceUnavailable"],
  ])("maps Code %s to %s %s", async (code, status, restCode) => {
    const onError = vi.fn();
    const err = new ConnectError("KMS already running", code);
    const { send } = setup(
      {
        startService: () => {
          throw err;
        },
      },
      { onError },
    );
    const res = await send("POST", `${P}/start`);
    expect(res.status).toBe(status);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.json).toStrictEqual({ code: restCode, message: "KMS already running" });
    expect(onError).toHaveBeenCalledWith(err, KmsAdminService.method.startService);
  });

  it("takes the REST code from kms-error-code metadata", async () => {
    const { send } = setup({
      decrypt: () => {
        throw new ConnectError("invalid ciphertext", Code.InvalidArgument, {
          "kms-error-code": "InvalidCiphertext",
        });
      },
    });
    const res = await send("POST", `${P}/decrypt`, { ciphertext_blob: "AAAA" });
    expect(res.status).toBe(400);
    expect(res.json).toStrictEqual({ code: "InvalidCiphertext", message: "invalid ciphertext" });
  });

  it("ignores a kms-error-code outside the catalogue", async () => {
    const { send } = setup({
      decrypt: () => {
        throw new ConnectError("nope", Code.NotFound, { "kms-error-code": "<script>" });
      },
    });
    const res = await send("POST", `${P}/decrypt`, {});
    expect(res.json).toStrictEqual({ code: "NotFound", message: "nope" });
  });

  it("never leaks the cause of a ConnectError, nor its metadata", async () => {
    const { send } = setup({
      getConfig: () => {
        throw new ConnectError(
          "backend failure",
          Code.Internal,
          { "x-secret": "hvs.TOKEN" },
          [],
          new Error("hvs.TOKEN"),
        );
      },
    });
    const res = await send("GET", `${P}/config`);
    expect(res.status).toBe(500);
    expect(res.text).not.toContain("hvs.TOKEN");
    expect(res.headers.get("x-secret")).toBeNull();
    expect(res.json).toStrictEqual({ code: "InternalError", message: "backend failure" });
  });

  it("answers an unknown error with 500 internal error and reports it to onError", async () => {
    const onError = vi.fn();
    const boom = new Error("ENOENT: /secret/path/master.key");
    const { send } = setup(
      {
        getConfig: () => {
          throw boom;
        },
      },
      { onError },
    );
    const res = await send("GET", `${P}/config`);
    expect(res.status).toBe(500);
    expect(res.json).toStrictEqual({ code: "InternalError", message: "internal error" });
    expect(onError).toHaveBeenCalledWith(boom, KmsAdminService.method.getConfig);
  });

  it("answers 500 when the handler returns something that is not the output", async () => {
    const onError = vi.fn();
    const { send } = setup({ getConfig: () => ({ backend: 5 }) as never }, { onError });
    const res = await send("GET", `${P}/config`);
    expect(res.status).toBe(500);
    expect(res.json).toStrictEqual({ code: "InternalError", message: "internal error" });
    expect(onError).toHaveBeenCalledTimes(1);
  });

  it("answers 501 for a method the implementation lacks", async () => {
    const { send } = setup();
    const res = await send("POST", `${P}/reconfigure`, {});
    expect(res.status).toBe(501);
    expect(res.json).toStrictEqual({
      code: "InternalError",
      message: "kms.admin.v1.KmsAdminService.Reconfigure is not implemented",
    });
  });

  it("does not report malformed requests to onError", async () => {
    const onError = vi.fn();
    const { send } = setup({}, { onError });
    await send("POST", `${P}/keys`, "{");
    await send("GET", `${P}/nope`);
    expect(onError).not.toHaveBeenCalled();
  });
});

describe("createRestTranscoder on a synthetic service", () => {
  const service = syntheticService([
    { name: "Get", rule: { pattern: { case: "get", value: "/v1/items/{id}" } } },
    {
      name: "Patch",
      rule: { pattern: { case: "patch", value: "/v1/items/{inner.name}" }, body: "inner" },
    },
    { name: "Put", rule: { pattern: { case: "put", value: "/v1/things/{id}" }, body: "*" } },
    { name: "Files", rule: { pattern: { case: "get", value: "/v1/files/{id=**}" } } },
  ]);
  const requests: unknown[] = [];
  const record = (req: unknown) => {
    requests.push(req);
    return {};
  };
  const transcoder = createRestTranscoder({
    service,
    // A registry-built DescService has untyped methods, so ServiceImpl cannot type them.
    implementation: { get: record, patch: record, put: record, files: record } as never,
  });
  const send = async (...args: Parameters<typeof request>) => {
    requests.length = 0;
    const res = await transcoder.handle(request(...args));
    return {
      status: res.status,
      json: JSON.parse(res.body) as unknown,
      request: requests[0],
    };
  };

  it("sets scalars, repeated fields, JSON names and nested fields from the query", async () => {
    const res = await send(
      "GET",
      "/v1/items/x?flag=true&names=a&names=b+c&count=-3&inner.name=n&ratio=1.5&bigNum=12345678901234&data=AQI%3D",
    );
    expect(res.status).toBe(200);
    expect(res.request).toMatchObject({
      id: "x",
      flag: true,
      names: ["a", "b c"],
      count: -3,
      inner: { name: "n" },
      ratio: 1.5,
      bigNum: 12345678901234n,
      data: new Uint8Array([1, 2]),
    });
  });

  it.each([
    ["flag=yes", 'invalid value for field "flag": expected true or false'],
    ["ratio=1.5x", 'invalid value for field "ratio": expected a number'],
    ["count=2147483648", 'invalid value for field "count": out of range for int32'],
    ["items=x", 'field "items" cannot be set from the query'],
    ["labels=x", 'field "labels" cannot be set from the query'],
    ["inner=x", 'field "inner" cannot be set from the query'],
    ["inner.nope=x", 'unknown field "inner.nope"'],
    ["id.x=1", 'unknown field "id.x"'],
    ["id=y", 'field "id" is set more than once'],
    ["data=!!", 'invalid value for field "data": invalid base64 string'],
  ])("rejects ?%s", async (query, message) => {
    const res = await send("GET", `/v1/items/x?${query}`);
    expect(res.status).toBe(400);
    expect(res.json).toStrictEqual({ code: "InvalidRequest", message });
  });

  it("lets a path variable override the body field it lies in", async () => {
    const res = await send("PATCH", "/v1/items/from-path", { name: "from-body" });
    expect(res.status).toBe(200);
    expect(res.request).toMatchObject({ inner: { name: "from-path" } });
  });

  it("lets a path variable override the body for body:*", async () => {
    const res = await send("PUT", "/v1/things/p", { id: "b", count: 2 });
    expect(res.request).toMatchObject({ id: "p", count: 2 });
  });

  it("keeps %2F encoded within a multi-segment capture, decodes it in a single one", async () => {
    expect((await send("GET", "/v1/files/a/b%2Fc/d%20e")).request).toMatchObject({
      id: "a/b%2Fc/d e",
    });
    expect((await send("GET", "/v1/items/a%2Fb")).request).toMatchObject({ id: "a/b" });
  });
});
