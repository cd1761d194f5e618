import aws4 from "aws4";
import type { RestAnswer, SignedFetchOptions } from "./signed-fetch.js";
import { readRestAnswer, testCredentials } from "./signed-fetch.js";

/**
 * aws4Fetch sends one request signed by the `aws4` package — a second SigV4
 * signer from npm, sharing no code with @smithy/signature-v4 or the gateway —
 * with the same interface as signedFetch, so a test can run one walk with
 * several signers using nothing but Node. It signs as service `s3`, which
 * hashes the body into `x-amz-content-sha256`.
 */
export async function aws4Fetch(
  baseUrl: string,
  method: string,
  path: string,
  options: Pick<SignedFetchOptions, "body" | "query"> = {},
): Promise<RestAnswer> {
  const url = new URL(path, baseUrl);
  const search = new URLSearchParams(options.query ?? {}).toString();
  const pathAndQuery = `${url.pathname}${search ? `?${search}` : ""}`;
  const headers: Record<string, string> = {};
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const signed = aws4.sign(
    {
      host: url.host,
      method,
      path: pathAndQuery,
      service: "s3",
      region: "us-east-1",
      headers,
      ...(options.body !== undefined ? { body: options.body } : {}),
    },
    testCredentials,
  );
  const sent: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers ?? {})) {
    // fetch sets Host and Content-Length itself, from the URL and the body.
    if (/^(host|content-length)$/i.test(name)) continue;
    sent[name] = String(value);
  }
  const response = await fetch(`${url.origin}${pathAndQuery}`, {
    method,
    headers: sent,
    body: options.body,
  });
  return readRestAnswer(response);
}
