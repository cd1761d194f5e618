import { Hash } from "@smithy/hash-node";
import { SignatureV4 } from "@smithy/signature-v4";

/** Credentials for signing; the test gateways use these as their root identity. */
export const testCredentials = {
  accessKeyId: "test-admin",
  secretAccessKey: "test-secret-0123456789",
};

/** RestAnswer is an HTTP response with its body read. */
export interface RestAnswer {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON, or undefined when it is empty or not JSON. */
  json: unknown;
}

/** restAnswerOf builds a RestAnswer, parsing `text` as JSON when it is JSON. */
export function restAnswerOf(status: number, headers: Headers, text: string): RestAnswer {
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status, headers, text, json };
}

/** readRestAnswer reads a fetch response's body into a RestAnswer. */
export async function readRestAnswer(response: Response): Promise<RestAnswer> {
  return restAnswerOf(response.status, response.headers, await response.text());
}

/** SignedFetchOptions tune one request. */
export interface SignedFetchOptions {
  /** The raw body text, sent as is (so seed examples go verbatim). */
  body?: string;
  /** Query parameters; signed and sent in the given order. */
  query?: Record<string, string>;
  /** Sign with these credentials instead of the test root's; null = do not sign. */
  credentials?: { accessKeyId: string; secretAccessKey: string } | null;
  /** The signing time (to test clock skew). */
  signingDate?: Date;
  /** Changes the request after signing (to test tampering). */
  afterSigning?: (req: { headers: Record<string, string>; body: string | undefined }) => void;
  headers?: Record<string, string>;
  /** The service of the credential scope (`s3` unless told; `kms` for the AWS KMS API). */
  service?: string;
  /** The region of the credential scope (`us-east-1` unless told). */
  region?: string;
}

/**
 * signedFetch sends one request to a gateway, signed with SigV4 by AWS's own
 * JavaScript signer (@smithy/signature-v4) — an implementation independent of
 * the gateway's verifier — and reads the answer.
 */
export async function signedFetch(
  baseUrl: string,
  method: string,
  path: string,
  options: SignedFetchOptions = {},
): Promise<RestAnswer> {
  const url = new URL(path, baseUrl);
  const query = options.query ?? {};
  const req = { headers: await signedHeaders(baseUrl, method, path, options), body: options.body };
  options.afterSigning?.(req);
  const search = new URLSearchParams(query).toString();
  const { host: _, ...fetchHeaders } = req.headers;
  const response = await fetch(`${url.origin}${url.pathname}${search ? `?${search}` : ""}`, {
    method,
    headers: fetchHeaders,
    body: req.body,
  });
  return readRestAnswer(response);
}

/**
 * signedHeaders returns the headers signedFetch would send (with `host`), for tests that
 * write the request themselves, e.g. to stall its body.
 */
export async function signedHeaders(
  baseUrl: string,
  method: string,
  path: string,
  options: Omit<SignedFetchOptions, "afterSigning"> = {},
): Promise<Record<string, string>> {
  const url = new URL(path, baseUrl);
  const headers: Record<string, string> = { host: url.host, ...options.headers };
  if (options.body !== undefined) {
    headers["content-type"] ??= "application/json";
  }
  if (options.credentials === null) return headers;
  const signer = new SignatureV4({
    credentials: options.credentials ?? testCredentials,
    region: options.region ?? "us-east-1",
    service: options.service ?? "s3",
    sha256: Hash.bind(null, "sha256"),
  });
  const signed = await signer.sign(
    {
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      query: options.query ?? {},
      headers,
      body: options.body,
    },
    options.signingDate ? { signingDate: options.signingDate } : {},
  );
  return { ...(signed.headers as Record<string, string>) };
}
