import { Hash } from "@smithy/hash-node";
import { SignatureV4 } from "@smithy/signature-v4";
import type { SigningCredentials } from "../tools/sigv4-headers.js";
import type { HttpRequestSpec } from "./wrk-script.js";

/** RestRequestInput is a REST call to sign: the body is hashed into the signature, as RustFS does. */
export interface RestRequestInput {
  /** The server's origin, e.g. `http://127.0.0.1:9000`. */
  baseUrl: string;
  method: string;
  /** The path without the query. */
  path: string;
  /** Query parameters, signed and sent in this order (keep them sorted). */
  query?: Record<string, string>;
  /** JSON text of the body, or undefined for none. */
  body?: string;
  /** The body's content type, default `application/json`. */
  contentType?: string;
  /** More headers to sign and send (`x-amz-target`). */
  headers?: Record<string, string>;
  /** The credential scope's service, default `s3` (RustFS's); the AWS KMS API signs `kms`. */
  service?: string;
  credentials: SigningCredentials;
  signingDate?: Date;
}

const utf8 = new TextEncoder();

/**
 * signRestRequest signs a REST call once with AWS's own signer
 * (@smithy/signature-v4, the signer the tests use, independent of the
 * gateway's verifier) with the body's SHA-256 in `x-amz-content-sha256`, and
 * returns the request to replay. The gateway accepts it for 15 minutes.
 */
export async function signRestRequest(input: RestRequestInput): Promise<HttpRequestSpec> {
  const url = new URL(input.path, input.baseUrl);
  const query = input.query ?? {};
  const headers: Record<string, string> = { host: url.host, ...input.headers };
  if (input.body !== undefined) headers["content-type"] = input.contentType ?? "application/json";
  const signer = new SignatureV4({
    credentials: input.credentials,
    region: "us-east-1",
    service: input.service ?? "s3",
    sha256: Hash.bind(null, "sha256"),
    applyChecksum: true,
  });
  const signed = await signer.sign(
    {
      method: input.method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      query,
      headers,
      body: input.body,
    },
    input.signingDate === undefined ? {} : { signingDate: input.signingDate },
  );
  const search = new URLSearchParams(query).toString();
  const sent: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers as Record<string, string>)) {
    sent[name.toLowerCase()] = value;
  }
  const body = utf8.encode(input.body ?? "");
  if (body.length > 0) sent["content-length"] = String(body.length);
  return {
    method: input.method,
    path: `${url.pathname}${search ? `?${search}` : ""}`,
    headers: sent,
    body,
  };
}
