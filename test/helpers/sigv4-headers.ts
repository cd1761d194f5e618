import type { Interceptor } from "@connectrpc/connect";
import { Hash } from "@smithy/hash-node";
import { SignatureV4 } from "@smithy/signature-v4";
import { testCredentials } from "./signed-fetch.js";

/**
 * sigv4Headers signs an RPC call (POST to `url`) with `UNSIGNED-PAYLOAD`, as
 * an RPC client that cannot hash its streamed body would, using AWS's own
 * signer. It returns the headers to add (without `host`).
 */
export async function sigv4Headers(
  url: string,
  credentials: { accessKeyId: string; secretAccessKey: string } = testCredentials,
): Promise<Record<string, string>> {
  const u = new URL(url);
  const signer = new SignatureV4({
    credentials,
    region: "us-east-1",
    service: "kms",
    sha256: Hash.bind(null, "sha256"),
  });
  const signed = await signer.sign({
    method: "POST",
    protocol: u.protocol,
    hostname: u.hostname,
    port: Number(u.port),
    path: u.pathname,
    query: {},
    headers: { host: u.host, "x-amz-content-sha256": "UNSIGNED-PAYLOAD" },
  });
  const { host: _, ...rest } = signed.headers as Record<string, string>;
  return rest;
}

/** sigv4Interceptor signs every Connect / gRPC / gRPC-Web call of a client. */
export function sigv4Interceptor(credentials?: {
  accessKeyId: string;
  secretAccessKey: string;
}): Interceptor {
  return (next) => async (req) => {
    for (const [name, value] of Object.entries(await sigv4Headers(req.url, credentials))) {
      req.header.set(name, value);
    }
    return next(req);
  };
}
