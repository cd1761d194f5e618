import { createHash } from "node:crypto";
import { Hash } from "@smithy/hash-node";
import { SignatureV4 } from "@smithy/signature-v4";
import { type RestAnswer, readRestAnswer, testCredentials } from "../helpers/signed-fetch.js";

/**
 * SigningStyle is how one client signs its admin requests, as its source does:
 *
 * - `rustfs-e2e`: RustFS's `kms_admin_request` (crates/e2e_test/src/kms/common.rs)
 *   sets `host`, `x-amz-content-sha256: UNSIGNED-PAYLOAD` and, with a body,
 *   `content-type: application/json`, and `rustfs_signer::sign_v4` signs every
 *   header it was given.
 * - `awscurl`: RustFS's `execute_awscurl` (crates/e2e_test/src/common.rs) runs
 *   awscurl `--service s3`, which signs only `host;x-amz-date` and sends the
 *   body's SHA-256 in `x-amz-content-sha256` unsigned, with its default
 *   `Content-Type: application/json` and `Accept: application/xml`.
 * - `aws4fetch`: the RustFS console (lib/aws4fetch.ts, service `s3`) adds
 *   `X-Amz-Content-Sha256: UNSIGNED-PAYLOAD` and signs every header but the
 *   unsignable ones (`content-type` among them); the browser adds `Origin`.
 * - `madmin`: madmin-go's `newRequest` (api.go) sets `X-Amz-Content-Sha256` to
 *   the hex SHA-256 of the body and minio-go's signer signs `host`,
 *   `x-amz-content-sha256` and `x-amz-date` (never `user-agent`,
 *   `content-type` or `content-length`), region `us-east-1`.
 * - `rc`: rc's admin client (rustfs/cli crates/s3/src/admin.rs) sets
 *   `x-amz-content-sha256` (hex SHA-256 of the body), `host` and, with a body,
 *   `content-type: application/json`, and aws-sigv4 signs all of them.
 */
export type SigningStyle = "rustfs-e2e" | "awscurl" | "aws4fetch" | "madmin" | "rc";

/** ClientRequest is one request as a client sends it. */
export interface ClientRequest {
  method: string;
  /** The path and query exactly as the client writes them into its URL. */
  pathAndQuery: string;
  body?: string;
  /** Headers sent but never signed (the browser's `Origin`, say). */
  unsignedHeaders?: Record<string, string>;
}

/** sha256Hex is the hex SHA-256 of a body, as madmin and awscurl send it. */
function sha256Hex(body: string): string {
  return createHash("sha256").update(body).digest("hex");
}

/**
 * sendAs sends one request to a gateway signed in the client's style (with
 * AWS's own JavaScript signer, @smithy/signature-v4, told which headers that
 * client signs) and reads the answer.
 */
export async function sendAs(
  style: SigningStyle,
  baseUrl: string,
  request: ClientRequest,
): Promise<RestAnswer> {
  const url = new URL(request.pathAndQuery, baseUrl);
  const body = request.body;
  const headers: Record<string, string> = { host: url.host };
  // Headers this client sends without signing them.
  const unsignable = new Set<string>();
  switch (style) {
    case "rustfs-e2e":
      headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD";
      if (body !== undefined) headers["content-type"] = "application/json";
      break;
    case "awscurl":
      headers["x-amz-content-sha256"] = sha256Hex(body ?? "");
      headers["content-type"] = "application/json";
      headers.accept = "application/xml";
      for (const name of ["x-amz-content-sha256", "content-type", "accept"]) unsignable.add(name);
      break;
    case "aws4fetch":
      headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD";
      if (body !== undefined) headers["content-type"] = "application/json";
      unsignable.add("content-type");
      break;
    case "madmin":
      headers["x-amz-content-sha256"] = sha256Hex(body ?? "");
      headers["user-agent"] = "MinIO (linux; amd64) madmin-go/0.0.1";
      break;
    case "rc":
      headers["x-amz-content-sha256"] = sha256Hex(body ?? "");
      if (body !== undefined && body !== "") headers["content-type"] = "application/json";
      break;
  }
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of url.searchParams) {
    const seen = query[name];
    query[name] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
  }
  const signer = new SignatureV4({
    credentials: testCredentials,
    region: "us-east-1",
    service: "s3",
    sha256: Hash.bind(null, "sha256"),
  });
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      query,
      headers,
      body,
    },
    { unsignableHeaders: unsignable },
  );
  const sent: Record<string, string> = { ...request.unsignedHeaders };
  for (const [name, value] of Object.entries(signed.headers as Record<string, string>)) {
    // fetch sets Host from the URL (the value signed) and Content-Length from the body.
    if (name.toLowerCase() !== "host") sent[name] = value;
  }
  const response = await fetch(`${url.origin}${request.pathAndQuery}`, {
    method: request.method,
    headers: sent,
    body,
  });
  return readRestAnswer(response);
}

/**
 * signedHeaderNames is the SignedHeaders list of the request sendAs would send,
 * so a test can check it signs as the client does.
 */
export async function signedHeaderNames(
  style: SigningStyle,
  baseUrl: string,
  request: ClientRequest,
): Promise<string[]> {
  let authorization = "";
  const realFetch = globalThis.fetch;
  globalThis.fetch = (async (_input: unknown, init?: RequestInit) => {
    authorization = new Headers(init?.headers).get("authorization") ?? "";
    return new Response("{}", { status: 200 });
  }) as typeof fetch;
  try {
    await sendAs(style, baseUrl, request);
  } finally {
    globalThis.fetch = realFetch;
  }
  return /SignedHeaders=([^,]+)/.exec(authorization)?.[1]?.split(";") ?? [];
}
