import { Hash } from "@smithy/hash-node";
import { SignatureV4 } from "@smithy/signature-v4";
import { createStaticCredentialStore } from "../../src/auth/credential-store.js";
import { createRootIdentity } from "../../src/auth/identity.js";
import type { SigV4Request } from "../../src/auth/verify-sigv4.js";

/** The test credentials; the secret is AWS's documentation example. */
export const ACCESS_KEY = "AKIDEXAMPLE";
export const SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
export const SIGNED_AT = new Date("2024-09-18T07:10:42Z");

/** smithyStore is a credential store whose one identity, the root, holds ACCESS_KEY / SECRET_KEY. */
export const smithyStore = createStaticCredentialStore([
  { identity: createRootIdentity(ACCESS_KEY), secretKey: SECRET_KEY },
]);

export type Query = Record<string, string | string[]>;

/** SmithyInput is a request for the independent signer; path is the wire path (encoded). */
export interface SmithyInput {
  method?: string;
  path?: string;
  query?: Query;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  service?: string;
  region?: string;
  /** false signs like S3 (path as sent), true like other services (double encoding). */
  uriEscapePath?: boolean;
  /** false leaves out x-amz-content-sha256 and hashes the body (like curl --aws-sigv4). */
  applyChecksum?: boolean;
  signingDate?: Date;
  accessKey?: string;
  secretKey?: string;
}

/** escapeUri encodes like the AWS SDK's HTTP handlers put a query on the wire. */
const escapeUri = (s: string): string =>
  encodeURIComponent(s).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );

/** serializeQuery writes the query in insertion order (deliberately not sorted). */
function serializeQuery(query: Query): string {
  return Object.entries(query)
    .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${escapeUri(k)}=${escapeUri(x)}`))
    .join("&");
}

function signer(input: SmithyInput): SignatureV4 {
  return new SignatureV4({
    credentials: {
      accessKeyId: input.accessKey ?? ACCESS_KEY,
      secretAccessKey: input.secretKey ?? SECRET_KEY,
    },
    region: input.region ?? "us-east-1",
    service: input.service ?? "s3",
    sha256: Hash.bind(null, "sha256"),
    uriEscapePath: input.uriEscapePath ?? false,
    applyChecksum: input.applyChecksum ?? true,
  });
}

function httpRequest(input: SmithyInput) {
  return {
    method: input.method ?? "GET",
    protocol: "http:",
    hostname: "127.0.0.1",
    port: 9000,
    path: input.path ?? "/",
    query: input.query ?? {},
    headers: { host: "127.0.0.1:9000", ...input.headers },
    body: input.body,
  };
}

function toSigV4Request(
  signed: {
    method: string;
    path: string;
    query?: Query | Record<string, unknown>;
    headers: Record<string, string>;
  },
  body: string | Uint8Array | undefined,
): SigV4Request {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(signed.headers)) headers[k.toLowerCase()] = v;
  return {
    method: signed.method,
    rawPath: signed.path,
    rawQuery: serializeQuery((signed.query ?? {}) as Query),
    headers,
    body: typeof body === "string" ? Buffer.from(body) : (body ?? new Uint8Array(0)),
  };
}

/** signWithSmithy signs with @smithy/signature-v4 and returns the request as the server sees it. */
export async function signWithSmithy(input: SmithyInput): Promise<SigV4Request> {
  const signed = await signer(input).sign(httpRequest(input), {
    signingDate: input.signingDate ?? SIGNED_AT,
  });
  return toSigV4Request(signed as never, input.body);
}

/** presignWithSmithy presigns with @smithy/signature-v4 and returns the request as received. */
export async function presignWithSmithy(
  input: SmithyInput,
  expiresIn = 3600,
): Promise<SigV4Request> {
  const signed = await signer(input).presign(httpRequest(input), {
    signingDate: input.signingDate ?? SIGNED_AT,
    expiresIn,
  });
  return toSigV4Request(signed as never, input.body);
}

/** signStringWithSmithy signs a hand-written string to sign with smithy's key derivation. */
export async function signStringWithSmithy(
  stringToSign: string,
  input: SmithyInput = {},
): Promise<string> {
  return signer(input).sign(stringToSign, {
    signingDate: input.signingDate ?? SIGNED_AT,
    signingRegion: input.region ?? "us-east-1",
    signingService: input.service ?? "s3",
  });
}
