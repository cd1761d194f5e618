/**
 * The tests' and benchmarks' RPC signer: AWS's own SigV4 signer (a dev
 * dependency), independent of the gateway's code, so a signing bug cannot hide a
 * verification bug. Users sign with `kms-gateway sign URL` (the gateway's signer);
 * the README shows it with `buf curl`.
 */
import { Hash } from "@smithy/hash-node";
import { SignatureV4 } from "@smithy/signature-v4";

/** SigningCredentials are an access key and its secret. */
export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/**
 * sigv4Headers signs a POST to `url` (path and query) with `UNSIGNED-PAYLOAD`,
 * as an RPC client that cannot hash its streamed body would, and returns the
 * headers to add (without `host`, which the client sends itself).
 */
export async function sigv4Headers(
  url: string,
  credentials: SigningCredentials,
): Promise<Record<string, string>> {
  const u = new URL(url);
  const query: Record<string, string[]> = {};
  for (const [name, value] of u.searchParams) {
    query[name] = [...(query[name] ?? []), value];
  }
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
    path: u.pathname,
    query,
    headers: { host: u.host, "x-amz-content-sha256": "UNSIGNED-PAYLOAD" },
  });
  const { host: _, ...headers } = signed.headers as Record<string, string>;
  return headers;
}
