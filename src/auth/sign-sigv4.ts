import { createHmac } from "node:crypto";
import {
  canonicalHeaders,
  canonicalQuery,
  canonicalRequest,
  splitQuery,
  stringToSign,
} from "./canonical-request.js";
import { deriveSigningKey } from "./signing-key-cache.js";

/** SignSigV4Input is a request to sign and who signs it. */
export interface SignSigV4Input {
  method: string;
  /** The URL the request goes to; its path and query are signed as they will be sent. */
  url: URL;
  /** Headers to send and sign (any case); `host` is added from the URL. */
  headers?: Readonly<Record<string, string>>;
  /** The body's SHA-256 in hex, or `UNSIGNED-PAYLOAD` (what RPC clients send). */
  payloadHash: string;
  accessKey: string;
  secretKey: string;
  region?: string;
  service?: string;
  now?: Date;
}

/**
 * signSigV4 signs a request with AWS Signature V4 in the Authorization header, from
 * the same canonicalization code the gateway verifies with, and returns the headers
 * to send besides the caller's own: `authorization`, `x-amz-date` and
 * `x-amz-content-sha256`. Every given header and `host` are signed.
 */
export function signSigV4(input: SignSigV4Input): Record<string, string> {
  const region = input.region ?? "us-east-1";
  const service = input.service ?? "s3";
  const amzDate = (input.now ?? new Date())
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.headers ?? {}))
    headers[name.toLowerCase()] = value;
  headers.host = input.url.host;
  headers["x-amz-date"] = amzDate;
  headers["x-amz-content-sha256"] = input.payloadHash;
  const signed = Object.keys(headers).sort();
  const block = canonicalHeaders(headers, signed) as string;
  const query = canonicalQuery(splitQuery(input.url.search.slice(1))) ?? "";
  const canonical = canonicalRequest({
    method: input.method,
    uri: input.url.pathname === "" ? "/" : input.url.pathname,
    query,
    headers: block,
    signedHeaders: signed.join(";"),
    payloadHash: input.payloadHash,
  });
  const scope = `${day}/${region}/${service}/aws4_request`;
  const key = deriveSigningKey(input.secretKey, day, region, service);
  const signature = createHmac("sha256", key)
    .update(stringToSign(amzDate, scope, canonical))
    .digest("hex");
  return {
    authorization: `AWS4-HMAC-SHA256 Credential=${input.accessKey}/${scope}, SignedHeaders=${signed.join(";")}, Signature=${signature}`,
    "x-amz-date": amzDate,
    "x-amz-content-sha256": input.payloadHash,
  };
}
