import { fromJson, toJson } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { describe, expect, it } from "vitest";
import { KmsAdminService } from "../../gen/kms/admin/v1/service_pb.js";
import { KeyMetadataSchema } from "../../gen/kms/admin/v1/types_pb.js";
import { useGateway } from "../helpers/gateway-process.js";
import { signedFetch } from "../helpers/signed-fetch.js";
import { sigv4Interceptor } from "../helpers/sigv4-headers.js";

// The same operations over Connect (JSON and binary, HTTP/1.1 and h2c), gRPC
// and gRPC-Web, against one gateway on the default local backend; every
// result must match what REST answers for the same key.

const gw = useGateway();

const transports: [string, (baseUrl: string, signed: boolean) => Transport][] = [
  [
    "connect+json http/1.1",
    (baseUrl, s) =>
      createConnectTransport({
        baseUrl,
        httpVersion: "1.1",
        interceptors: s ? [sigv4Interceptor()] : [],
      }),
  ],
  [
    "connect+proto http/1.1",
    (baseUrl, s) =>
      createConnectTransport({
        baseUrl,
        httpVersion: "1.1",
        useBinaryFormat: true,
        interceptors: s ? [sigv4Interceptor()] : [],
      }),
  ],
  [
    "connect+json h2c",
    (baseUrl, s) =>
      createConnectTransport({
        baseUrl,
        httpVersion: "2",
        interceptors: s ? [sigv4Interceptor()] : [],
      }),
  ],
  [
    "grpc h2c",
    (baseUrl, s) => createGrpcTransport({ baseUrl, interceptors: s ? [sigv4Interceptor()] : [] }),
  ],
  [
    "grpc-web http/1.1",
    (baseUrl, s) =>
      createGrpcWebTransport({
        baseUrl,
        httpVersion: "1.1",
        interceptors: s ? [sigv4Interceptor()] : [],
      }),
  ],
];

describe.each(transports)("over %s", (name, makeTransport) => {
  const keyName = `rpc-${name.replace(/[^a-z0-9]+/g, "-")}`;

  it("creates, describes and lists a key exactly as REST sees it", async () => {
    const client = createClient(KmsAdminService, makeTransport(gw.url, true));
    const created = await client.createKey({
      description: `via ${name}`,
      tags: { name: keyName, team: "rpc" },
    });
    expect(created.keyId).toBe(keyName);

    const described = await client.describeKey({ keyId: keyName });
    const rest = await signedFetch(gw.url, "GET", `/rustfs/admin/v3/kms/keys/${keyName}`);
    expect(rest.status).toBe(200);
    const restMeta = fromJson(
      KeyMetadataSchema,
      (rest.json as { key_metadata: never }).key_metadata,
      {
        ignoreUnknownFields: false,
      },
    );
    if (described.keyMetadata === undefined) throw new Error("no key_metadata");
    expect(toJson(KeyMetadataSchema, described.keyMetadata)).toEqual(
      toJson(KeyMetadataSchema, restMeta),
    );
    expect(described.keyMetadata).toMatchObject({
      keyState: "Enabled",
      enabled: true,
      keyUsage: "ENCRYPT_DECRYPT",
    });

    const page = await client.listKeys({ marker: keyName.slice(0, -1), limit: 1000 });
    expect(page.keys.map((k) => k.keyId)).toContain(keyName);
  });

  it("generates a data key that REST decrypts, and decrypts one REST generated", async () => {
    const client = createClient(KmsAdminService, makeTransport(gw.url, true));
    const context = { bucket: "b", object: name };
    const dk = await client.generateDataKey({
      keyId: keyName,
      keySpec: "AES_128",
      encryptionContext: context,
    });
    expect(dk.plaintextKey).toHaveLength(16);
    const viaRest = await signedFetch(gw.url, "POST", "/rustfs/admin/v3/kms/decrypt", {
      body: JSON.stringify({
        ciphertext_blob: Buffer.from(dk.ciphertextBlob).toString("base64"),
        encryption_context: context,
      }),
    });
    expect(viaRest.status).toBe(200);
    expect(viaRest.json).toEqual({
      key_id: keyName,
      plaintext_key: Buffer.from(dk.plaintextKey).toString("base64"),
    });

    const restDk = await signedFetch(gw.url, "POST", "/rustfs/admin/v3/kms/generate-data-key", {
      body: JSON.stringify({ key_id: keyName, encryption_context: context }),
    });
    const restBody = restDk.json as { plaintext_key: string; ciphertext_blob: string };
    const decrypted = await client.decrypt({
      ciphertextBlob: Buffer.from(restBody.ciphertext_blob, "base64"),
      encryptionContext: context,
    });
    expect(Buffer.from(decrypted.plaintextKey).toString("base64")).toBe(restBody.plaintext_key);

    const wrongContext = await client
      .decrypt({
        ciphertextBlob: dk.ciphertextBlob,
        encryptionContext: { ...context, object: "other" },
      })
      .catch((e: unknown) => ConnectError.from(e));
    expect(wrongContext).toBeInstanceOf(ConnectError);
    expect((wrongContext as ConnectError).code).toBe(Code.InvalidArgument);
    expect((wrongContext as ConnectError).metadata.get("kms-error-code")).toBe("InvalidCiphertext");
  });

  it("maps errors to Connect codes", async () => {
    const client = createClient(KmsAdminService, makeTransport(gw.url, true));
    const missing = await client
      .describeKey({ keyId: "no-such-key" })
      .catch((e: unknown) => ConnectError.from(e));
    expect((missing as ConnectError).code).toBe(Code.NotFound);
    const dup = await client
      .createKey({ tags: { name: keyName } })
      .catch((e: unknown) => ConnectError.from(e));
    expect((dup as ConnectError).code).toBe(Code.AlreadyExists);
    const window = await client
      .scheduleKeyDeletion({ keyId: keyName, pendingWindowInDays: 6 })
      .catch((e: unknown) => ConnectError.from(e));
    expect((window as ConnectError).code).toBe(Code.InvalidArgument);
    const running = await client
      .configure({ config: { backendType: "local" } })
      .catch((e: unknown) => ConnectError.from(e));
    expect((running as ConnectError).code).toBe(Code.FailedPrecondition);
  });

  it("refuses a request over 1 MiB with ResourceExhausted", async () => {
    const client = createClient(KmsAdminService, makeTransport(gw.url, true));
    const err = await client
      .createKey({ description: "x".repeat(1024 * 1024 + 1) })
      .catch((e: unknown) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.ResourceExhausted);
  });

  it("refuses an unsigned call with Unauthenticated", async () => {
    const client = createClient(KmsAdminService, makeTransport(gw.url, false));
    const err = await client.getStatus({}).catch((e: unknown) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.Unauthenticated);
  });
});
