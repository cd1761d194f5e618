import { create, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { expectDataKeyJson, expectGrpcDataKey, expectListPage } from "../../bench/answer-checks.js";
import {
  fixedGenerateDataKeyFrame,
  fixedGenerateDataKeyJson,
} from "../../bench/baselines/fixed-responses.js";
import { grpcFrame, readGrpcFrames } from "../../bench/grpc-frame.js";
import type { Answer } from "../../bench/send-once.js";
import { signRestRequest } from "../../bench/sign-rest-request.js";
import { signRpcRequest } from "../../bench/sign-rpc-request.js";
import { GenerateDataKeyResponseSchema } from "../../gen/kms/admin/v1/service_pb.js";
import { createStaticCredentialStore } from "../../src/auth/credential-store.js";
import { createRootIdentity } from "../../src/auth/identity.js";
import { verifySigV4 } from "../../src/auth/verify-sigv4.js";
import { testCredentials } from "../helpers/signed-fetch.js";

const store = createStaticCredentialStore([
  {
    identity: createRootIdentity(testCredentials.accessKeyId),
    secretKey: testCredentials.secretAccessKey,
  },
]);
const baseUrl = "http://127.0.0.1:9000";

function verify(
  spec: { method: string; path: string; headers: Record<string, string> },
  body: Uint8Array | null,
) {
  const [rawPath, rawQuery = ""] = spec.path.split("?") as [string, string?];
  return verifySigV4(
    { method: spec.method, rawPath, rawQuery, headers: spec.headers, body },
    store,
  );
}

describe("signRestRequest", () => {
  it("builds a request the gateway's verifier accepts, body hash included", async () => {
    const spec = await signRestRequest({
      baseUrl,
      method: "POST",
      path: "/rustfs/admin/v3/kms/generate-data-key",
      body: '{"key_id":"k"}',
      credentials: testCredentials,
    });
    expect(spec.headers.host).toBe("127.0.0.1:9000");
    expect(spec.headers["x-amz-content-sha256"]).toMatch(/^[0-9a-f]{64}$/);
    expect(spec.headers["content-length"]).toBe("14");
    expect(verify(spec, spec.body)).toMatchObject({ ok: true });
    // The body is signed: another body with the same headers is refused.
    expect(verify(spec, new TextEncoder().encode('{"key_id":"x"}'))).toMatchObject({ ok: false });
  });

  it("signs the query of a GET", async () => {
    const spec = await signRestRequest({
      baseUrl,
      method: "GET",
      path: "/rustfs/admin/v3/kms/keys",
      query: { limit: "100" },
      credentials: testCredentials,
    });
    expect(spec.path).toBe("/rustfs/admin/v3/kms/keys?limit=100");
    expect(verify(spec, spec.body)).toMatchObject({ ok: true });
    expect(verify({ ...spec, path: "/rustfs/admin/v3/kms/keys?limit=5" }, spec.body)).toMatchObject(
      { ok: false },
    );
  });
});

describe("signRpcRequest", () => {
  it("builds a gRPC request with UNSIGNED-PAYLOAD that verifies with or without its body", async () => {
    const spec = await signRpcRequest({
      baseUrl,
      procedure: "/kms.admin.v1.KmsAdminService/GenerateDataKey",
      contentType: "application/grpc",
      body: grpcFrame(new Uint8Array([10, 1, 107])),
      credentials: testCredentials,
    });
    expect(spec.headers).toMatchObject({
      te: "trailers",
      "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
    });
    expect(verify(spec, null)).toMatchObject({ ok: true });
    // Over HTTP/2 the host arrives as :authority.
    const { host, ...h2 } = spec.headers;
    expect(
      verify({ ...spec, headers: { ...h2, ":authority": host as string } }, null),
    ).toMatchObject({ ok: true });
  });

  it("gives a Connect JSON request a content-length", async () => {
    const spec = await signRpcRequest({
      baseUrl,
      procedure: "/kms.admin.v1.KmsAdminService/GenerateDataKey",
      contentType: "application/json",
      body: new TextEncoder().encode("{}"),
      credentials: testCredentials,
    });
    expect(spec.headers["content-length"]).toBe("2");
    expect(verify(spec, spec.body)).toMatchObject({ ok: true });
  });
});

describe("gRPC frames", () => {
  it("round-trips messages and refuses truncated or compressed frames", () => {
    const body = new Uint8Array([
      ...grpcFrame(new Uint8Array([1, 2])),
      ...grpcFrame(new Uint8Array(0)),
    ]);
    expect(readGrpcFrames(body).map((m) => [...m])).toEqual([[1, 2], []]);
    expect(() => readGrpcFrames(body.subarray(0, 6))).toThrow(/truncated/);
    expect(() => readGrpcFrames(new Uint8Array([1, 0, 0, 0, 0]))).toThrow(/compressed/);
  });
});

function answer(status: number, body: Uint8Array | string, extra: Partial<Answer> = {}): Answer {
  return {
    status,
    headers: {},
    trailers: {},
    body: typeof body === "string" ? new TextEncoder().encode(body) : body,
    ...extra,
  };
}

describe("answer checks", () => {
  it("accept the baselines' fixed answers, which have the gateway's shape", () => {
    expect(
      expectDataKeyJson("bench-000000", "snake")(answer(200, fixedGenerateDataKeyJson)),
    ).toBeNull();
    const ok = answer(200, fixedGenerateDataKeyFrame, { trailers: { "grpc-status": "0" } });
    expect(expectGrpcDataKey("bench-000000")(ok)).toBeNull();
  });

  it("say why an answer is wrong", () => {
    const check = expectDataKeyJson("bench-000000", "snake");
    expect(check(answer(401, '{"code":"Unauthenticated"}'))).toMatch(/HTTP 401, expected 200/);
    expect(check(answer(200, "nope"))).toMatch(/not JSON/);
    expect(check(answer(200, '{"key_id":"other"}'))).toMatch(/key_id/);
    expect(
      check(
        answer(
          200,
          JSON.stringify({
            key_id: "bench-000000",
            plaintext_key: "AAAA",
            ciphertext_blob: "AA==",
          }),
        ),
      ),
    ).toMatch(/32-byte/);
    const denied = answer(200, new Uint8Array(0), {
      headers: { "grpc-status": "16", "grpc-message": "signature%20does%20not%20match" },
    });
    expect(expectGrpcDataKey(null)(denied)).toBe("grpc-status 16 signature does not match");
    const short = grpcFrame(
      toBinary(
        GenerateDataKeyResponseSchema,
        create(GenerateDataKeyResponseSchema, { keyId: "k", plaintextKey: new Uint8Array(16) }),
      ),
    );
    expect(
      expectGrpcDataKey("k")(answer(200, short, { trailers: { "grpc-status": "0" } })),
    ).toMatch(/32 bytes/);
    expect(
      expectListPage(
        2,
        false,
      )(answer(200, '{"keys":[{"key_id":"b"},{"key_id":"a"}],"truncated":false}')),
    ).toMatch(/order/);
  });
});
