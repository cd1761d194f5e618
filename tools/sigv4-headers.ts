/**
 * sigv4-headers prints SigV4 headers (one "Name: value" per line) that sign an
 * RPC call to the given URL with UNSIGNED-PAYLOAD, for clients with no SigV4
 * support of their own such as `buf curl`:
 *
 *   npm run -s sigv4-headers -- URL | npx buf curl -H @- ... URL
 *
 * Credentials come from RUSTFS_ACCESS_KEY / RUSTFS_SECRET_KEY (default
 * rustfsadmin / rustfsadmin). It signs with AWS's own signer, not the
 * gateway's code. The signature is valid for 15 minutes.
 */
import { Hash } from "@smithy/hash-node";
import { SignatureV4 } from "@smithy/signature-v4";

const target = process.argv[2];
if (target === undefined) {
  process.stderr.write("usage: npm run -s sigv4-headers -- URL\n");
  process.exit(2);
}
const url = new URL(target);
const signer = new SignatureV4({
  credentials: {
    accessKeyId: process.env.RUSTFS_ACCESS_KEY || "rustfsadmin",
    secretAccessKey: process.env.RUSTFS_SECRET_KEY || "rustfsadmin",
  },
  region: "us-east-1",
  service: "kms",
  sha256: Hash.bind(null, "sha256"),
});
const signed = await signer.sign({
  method: "POST",
  protocol: url.protocol,
  hostname: url.hostname,
  port: url.port ? Number(url.port) : undefined,
  path: url.pathname,
  query: {},
  headers: { host: url.host, "x-amz-content-sha256": "UNSIGNED-PAYLOAD" },
});
for (const [name, value] of Object.entries(signed.headers)) {
  if (name !== "host") process.stdout.write(`${name}: ${value}\n`);
}
