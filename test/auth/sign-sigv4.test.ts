import { createHash } from "node:crypto";
import { Hash } from "@smithy/hash-node";
import { SignatureV4 } from "@smithy/signature-v4";
import { describe, expect, it } from "vitest";
import { signSigV4 } from "../../src/auth/sign-sigv4.js";

// The gateway's own signer (the SDK and the CLI sign with it) against AWS's signer,
// an independent implementation: same inputs, same signature.

const credentials = {
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
};
const now = new Date("2026-12-02T00:40:00Z");

async function awsAuthorization(
  url: URL,
  method: string,
  headers: Record<string, string>,
  payloadHash: string,
  service: string,
) {
  const query: Record<string, string[]> = {};
  for (const [k, v] of url.searchParams) query[k] = [...(query[k] ?? []), v];
  const signer = new SignatureV4({
    credentials,
    region: "us-east-1",
    service,
    sha256: Hash.bind(null, "sha256"),
    uriEscapePath: false,
  });
  const signed = await signer.sign(
    {
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port === "" ? undefined : Number(url.port),
      path: url.pathname,
      query,
      headers: { ...headers, host: url.host, "x-amz-content-sha256": payloadHash },
    },
    { signingDate: now },
  );
  return (signed.headers as Record<string, string>).authorization;
}

describe("signSigV4", () => {
  it.each([
    [
      "a REST POST with a hashed body",
      "POST",
      "http://127.0.0.1:9000/rustfs/admin/v3/kms/generate-data-key",
      { "content-type": "application/json" },
      createHash("sha256").update('{"key_id":"k"}').digest("hex"),
      "s3",
    ],
    [
      "a GET with a query to sort and encode",
      "GET",
      "http://127.0.0.1:9000/rustfs/admin/v3/kms/keys?marker=a%20b&limit=10&z=%2B",
      {},
      createHash("sha256").update("").digest("hex"),
      "s3",
    ],
    [
      "an RPC with UNSIGNED-PAYLOAD",
      "POST",
      "http://localhost:7000/kms.admin.v1.KmsAdminService/GetStatus",
      { "content-type": "application/proto" },
      "UNSIGNED-PAYLOAD",
      "kms",
    ],
  ])(
    "signs %s exactly as AWS's signer does",
    async (_, method, href, headers, payloadHash, service) => {
      const url = new URL(href);
      const ours = signSigV4({
        method,
        url,
        headers,
        payloadHash,
        accessKey: credentials.accessKeyId,
        secretKey: credentials.secretAccessKey,
        service,
        now,
      });
      expect(ours.authorization).toBe(
        await awsAuthorization(url, method, headers, payloadHash, service),
      );
      expect(ours["x-amz-date"]).toBe("20261202T004000Z");
    },
  );
});
