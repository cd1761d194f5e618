import { Code, ConnectError, createClient } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { describe, expect, it } from "vitest";
import { KmsAdminService } from "../../gen/kms/admin/v1/service_pb.js";
import { type RestAnswer, signedFetch } from "../helpers/signed-fetch.js";
import { sigv4Interceptor } from "../helpers/sigv4-headers.js";
import { credentialsOf, useSeededAuthzGateway } from "./authz-fixture.js";

// Per-key scoping, Deny over Allow, the order of checks (401, then 403, then
// validation), and decrypt authorized by the key inside the ciphertext.

const { gw, seeded } = useSeededAuthzGateway();
const P = "/rustfs/admin/v3/kms";

const as = (who: string, method: string, path: string, body?: string) =>
  signedFetch(gw.url, method, path, { body, credentials: credentialsOf(who) });
const grpcAs = (who: string) =>
  createClient(
    KmsAdminService,
    createGrpcTransport({ baseUrl: gw.url, interceptors: [sigv4Interceptor(credentialsOf(who))] }),
  );
const codeOf = async (call: Promise<unknown>) => {
  try {
    await call;
    return "ok";
  } catch (err) {
    return Code[ConnectError.from(err).code];
  }
};
const DENIED = {
  status: 403,
  json: {
    code: "AccessDenied",
    message: "access denied: the identity lacks permission for this call",
  },
};
const view = (a: RestAnswer) => ({ status: a.status, json: a.json });

describe("per-key scoping", () => {
  it("KMSKeyUser:app-* may use key app-1 and not key other, over REST and gRPC", async () => {
    for (const [keyId, allowed] of [
      ["app-1", true],
      ["other", false],
    ] as const) {
      const describeKey = await as("key-user", "GET", `${P}/keys/${keyId}`);
      const generate = await as(
        "key-user",
        "POST",
        `${P}/generate-data-key`,
        JSON.stringify({ key_id: keyId }),
      );
      expect(describeKey.status).toBe(allowed ? 200 : 403);
      expect(generate.status).toBe(allowed ? 200 : 403);
      const client = grpcAs("key-user");
      expect(await codeOf(client.describeKey({ keyId }))).toBe(allowed ? "ok" : "PermissionDenied");
      expect(await codeOf(client.generateDataKey({ keyId }))).toBe(
        allowed ? "ok" : "PermissionDenied",
      );
    }
  });

  it("an explicit Deny on key other wins over kms:* on every key", async () => {
    expect((await as("deny-other", "GET", `${P}/keys/app-1`)).status).toBe(200);
    expect(view(await as("deny-other", "GET", `${P}/keys/other`))).toEqual(DENIED);
    const disable = await as("deny-other", "POST", `${P}/keys/disable`, '{"key_id":"other"}');
    expect(view(disable)).toEqual(DENIED);
    expect(await codeOf(grpcAs("deny-other").rotateKey({ keyId: "other" }))).toBe(
      "PermissionDenied",
    );
  });

  it("a wildcard action (kms:Describe*) scoped to app-* allows describe on app-1 only", async () => {
    expect((await as("scoped", "GET", `${P}/keys/app-1`)).status).toBe(200);
    expect(view(await as("scoped", "GET", `${P}/keys/other`))).toEqual(DENIED);
    // A scoped statement never allows a service-level action.
    expect(view(await as("scoped", "GET", `${P}/keys`))).toEqual(DENIED);
  });
});

describe("a denied caller learns nothing", () => {
  it("gets the same 403 for an existing key, a missing key and a malformed body", async () => {
    // The auditor holds no permission to generate at all: refused before its body is read.
    const answers = await Promise.all(
      [
        JSON.stringify({ key_id: "app-1" }),
        JSON.stringify({ key_id: "no-such-key" }),
        JSON.stringify({ key_id: "../../etc", key_spec: "AES_999" }),
        '{"key_id": "app-1", "unknown_field": 1}',
        "{not json",
      ].map((body) => as("auditor", "POST", `${P}/generate-data-key`, body)),
    );
    for (const a of answers) expect(view(a)).toEqual(DENIED);
    expect(new Set(answers.map((a) => a.text)).size).toBe(1);
  });

  it("a key-scoped caller gets the same 403 for another existing key, a missing key and bad input", async () => {
    const answers = await Promise.all([
      as("key-user", "GET", `${P}/keys/other`),
      as("key-user", "GET", `${P}/keys/no-such-key`),
      as("key-user", "POST", `${P}/generate-data-key`, '{"key_id":"other","key_spec":"AES_999"}'),
      as("key-user", "POST", `${P}/generate-data-key`, '{"key_id":"no-such","key_spec":"AES_999"}'),
      as("key-user", "POST", `${P}/encrypt`, '{"key_id":"../x","plaintext":"aGk="}'),
    ]);
    for (const a of answers) expect(view(a)).toEqual(DENIED);
  });

  it("over gRPC: PermissionDenied alike for an existing and a missing key", async () => {
    const client = grpcAs("auditor");
    expect(await codeOf(client.generateDataKey({ keyId: "app-1" }))).toBe("PermissionDenied");
    expect(await codeOf(client.generateDataKey({ keyId: "no-such-key" }))).toBe("PermissionDenied");
    const user = grpcAs("key-user");
    expect(await codeOf(user.describeKey({ keyId: "other" }))).toBe("PermissionDenied");
    expect(await codeOf(user.describeKey({ keyId: "no-such-key" }))).toBe("PermissionDenied");
  });

  it("a bad signature is 401 before anything else, even for an identity that exists", async () => {
    const answer = await signedFetch(gw.url, "GET", `${P}/keys/app-1`, {
      credentials: { accessKeyId: "auditor", secretAccessKey: "wrong-secret-0123" },
    });
    expect(answer.status).toBe(401);
    const forged = await signedFetch(gw.url, "POST", `${P}/generate-data-key`, {
      body: "{not json",
      credentials: { accessKeyId: "key-user", secretAccessKey: "wrong-secret-0123" },
    });
    expect(forged.status).toBe(401);
  });
});

describe("decrypt and re-encrypt are authorized by the key inside the ciphertext", () => {
  it("key-user may decrypt app-1's ciphertext and not other's", async () => {
    const body = (blob: string) =>
      JSON.stringify({ ciphertext_blob: blob, encryption_context: { bucket: "b" } });
    expect((await as("key-user", "POST", `${P}/decrypt`, body(seeded().appBlob))).status).toBe(200);
    expect(view(await as("key-user", "POST", `${P}/decrypt`, body(seeded().otherBlob)))).toEqual(
      DENIED,
    );
    const client = grpcAs("key-user");
    const blob = Buffer.from(seeded().otherBlob, "base64");
    expect(
      await codeOf(client.decrypt({ ciphertextBlob: blob, encryptionContext: { bucket: "b" } })),
    ).toBe("PermissionDenied");
  });

  it("Deny kms:Decrypt holds whatever the caller sends", async () => {
    const body = JSON.stringify({
      ciphertext_blob: seeded().appBlob,
      encryption_context: { bucket: "b" },
    });
    expect(view(await as("deny-decrypt", "POST", `${P}/decrypt`, body))).toEqual(DENIED);
  });

  it("re-encrypt needs both the source key (in the ciphertext) and the destination", async () => {
    const body = (blob: string, destination: string) =>
      JSON.stringify({
        ciphertext_blob: blob,
        encryption_context: { bucket: "b" },
        destination_key_id: destination,
      });
    expect(
      (await as("key-user", "POST", `${P}/re-encrypt`, body(seeded().appBlob, "app-1"))).status,
    ).toBe(200);
    for (const [blob, destination] of [
      [seeded().otherBlob, "app-1"],
      [seeded().appBlob, "other"],
    ] as const) {
      expect(
        view(await as("key-user", "POST", `${P}/re-encrypt`, body(blob, destination))),
      ).toEqual(DENIED);
    }
  });

  it("a ciphertext that is not an envelope is refused to a key-scoped caller (403), and judged (400) for an unscoped one", async () => {
    const body = JSON.stringify({ ciphertext_blob: Buffer.from("garbage").toString("base64") });
    expect(view(await as("key-user", "POST", `${P}/decrypt`, body))).toEqual(DENIED);
    expect((await as("console-admin", "POST", `${P}/decrypt`, body)).status).toBe(400);
  });
});

describe("every protocol alike", () => {
  const transports = {
    "connect+json http/1.1": (c: ReturnType<typeof credentialsOf>) =>
      createConnectTransport({
        baseUrl: gw.url,
        httpVersion: "1.1",
        interceptors: [sigv4Interceptor(c)],
      }),
    "connect+proto h2c": (c: ReturnType<typeof credentialsOf>) =>
      createConnectTransport({
        baseUrl: gw.url,
        httpVersion: "2",
        useBinaryFormat: true,
        interceptors: [sigv4Interceptor(c)],
      }),
    "grpc-web http/1.1": (c: ReturnType<typeof credentialsOf>) =>
      createGrpcWebTransport({
        baseUrl: gw.url,
        httpVersion: "1.1",
        interceptors: [sigv4Interceptor(c)],
      }),
    "grpc h2c": (c: ReturnType<typeof credentialsOf>) =>
      createGrpcTransport({ baseUrl: gw.url, interceptors: [sigv4Interceptor(c)] }),
  };

  it.each(Object.keys(transports))(
    "%s: the same answers as REST for the same identity and call",
    async (name) => {
      const make = transports[name as keyof typeof transports];
      const client = (who: string) => createClient(KmsAdminService, make(credentialsOf(who)));
      const rest = async (who: string, path: string) => (await as(who, "GET", path)).status;
      const codes = {
        auditorList: await codeOf(client("auditor").listKeys({})),
        auditorGenerate: await codeOf(client("auditor").generateDataKey({ keyId: "app-1" })),
        userDescribeApp: await codeOf(client("key-user").describeKey({ keyId: "app-1" })),
        userDescribeOther: await codeOf(client("key-user").describeKey({ keyId: "other" })),
        forged: await codeOf(
          createClient(
            KmsAdminService,
            make({ accessKeyId: "auditor", secretAccessKey: "wrong-secret-0123" }),
          ).listKeys({}),
        ),
      };
      expect(codes).toEqual({
        auditorList: "ok",
        auditorGenerate: "PermissionDenied",
        userDescribeApp: "ok",
        userDescribeOther: "PermissionDenied",
        forged: "Unauthenticated",
      });
      expect(await rest("auditor", `${P}/keys`)).toBe(200);
      expect(await rest("key-user", `${P}/keys/app-1`)).toBe(200);
      expect(await rest("key-user", `${P}/keys/other`)).toBe(403);
    },
  );
});
