/**
 * sigv4-headers prints SigV4 headers (one "Name: value" per line) that sign an
 * RPC call to the given URL with UNSIGNED-PAYLOAD, for clients with no SigV4
 * support of their own such as `buf curl`:
 *
 *   npm run -s sigv4-headers -- URL | npx buf curl -H @- ... URL
 *
 * Credentials come from RUSTFS_ACCESS_KEY / RUSTFS_SECRET_KEY with the
 * gateway's own defaults. It signs with AWS's own signer (a dev dependency),
 * not the gateway's code; the tests sign their RPC calls with it too. The
 * signature is valid for 15 minutes.
 */
import { pathToFileURL } from "node:url";
import { Hash } from "@smithy/hash-node";
import { SignatureV4 } from "@smithy/signature-v4";
import { rootCredentialsFromEnv } from "../src/auth/credential-store.js";

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

async function main(): Promise<void> {
  const target = process.argv[2];
  if (target === undefined) {
    process.stderr.write("usage: npm run -s sigv4-headers -- URL\n");
    process.exit(2);
  }
  const root = rootCredentialsFromEnv(process.env);
  const credentials = { accessKeyId: root.accessKey, secretAccessKey: root.secretKey };
  for (const [name, value] of Object.entries(await sigv4Headers(target, credentials))) {
    process.stdout.write(`${name}: ${value}\n`);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
