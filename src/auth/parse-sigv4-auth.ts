import type { HeaderValue } from "./canonical-request.js";
import { percentDecode } from "./percent-encoding.js";

/** The only algorithm accepted; SigV4a (ECDSA) and SigV2 are refused. */
const ALGORITHM = "AWS4-HMAC-SHA256";
/** Presigned URLs may live at most a week, as on AWS. */
const MAX_EXPIRES_SECONDS = 604_800;
/** Bounds on client-controlled sizes. */
const MAX_AUTHORIZATION_LENGTH = 4096;
const MAX_SIGNED_HEADERS = 64;

const SIGNED_HEADERS_RE = /^[a-z0-9!#$%&'*+.^_`|~-]+(;[a-z0-9!#$%&'*+.^_`|~-]+)*$/;
const SIGNATURE_RE = /^[0-9a-fA-F]{64}$/;
const AMZ_DATE_RE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const SCOPE_PART_RE = /^[\x21-\x7e]{1,64}$/;

/** The presigned query parameters, by their exact (case-sensitive) names. */
const PRESIGN_PARAMS = [
  "X-Amz-Algorithm",
  "X-Amz-Credential",
  "X-Amz-Date",
  "X-Amz-Expires",
  "X-Amz-SignedHeaders",
  "X-Amz-Signature",
  "X-Amz-Content-Sha256",
] as const;
type PresignParam = (typeof PRESIGN_PARAMS)[number];

/** SigV4Auth is the signature data a request carries, checked for form but not verified. */
export interface SigV4Auth {
  presigned: boolean;
  accessKey: string;
  region: string;
  service: string;
  /** `date/region/service/aws4_request`. */
  scope: string;
  /** The signed header list exactly as sent, and split. */
  signedHeaders: string;
  signedHeaderNames: string[];
  /** The 32 signature bytes. */
  signature: Buffer;
  /** X-Amz-Date as sent (`YYYYMMDDTHHMMSSZ`) and as epoch milliseconds. */
  amzDate: string;
  signedAtMs: number;
  /** X-Amz-Expires in seconds, presigned only. */
  expiresSeconds?: number;
  /** X-Amz-Content-Sha256 from the query, presigned only. */
  queryPayloadHash?: string;
}

/** ParseSigV4AuthResult is a parsed signature or a short reason that is safe to show. */
export type ParseSigV4AuthResult = { ok: true; auth: SigV4Auth } | { ok: false; reason: string };

const fail = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** parseAmzDate returns the epoch milliseconds of a `YYYYMMDDTHHMMSSZ` date, or undefined. */
export function parseAmzDate(value: string): number | undefined {
  const m = AMZ_DATE_RE.exec(value);
  if (!m) return undefined;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const h = Number(m[4]);
  const mi = Number(m[5]);
  const s = Number(m[6]);
  const leap = mo === 2 && ((y % 4 === 0 && y % 100 !== 0) || y % 400 === 0) ? 1 : 0;
  // Date.UTC would silently roll 20240231 over into March.
  if (mo < 1 || mo > 12 || d < 1 || d > (DAYS_IN_MONTH[mo - 1] as number) + leap) return undefined;
  if (h > 23 || mi > 59 || s > 59) return undefined;
  // Not Date.UTC either: it reads years 0-99 as 1900-1999.
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, s, 0);
  return date.getTime();
}

/** presignParams picks the X-Amz-* parameters out of the query; a repeated one is an error. */
function presignParams(
  query: ReadonlyArray<readonly [string, string]>,
): Map<PresignParam, string> | undefined {
  const found = new Map<PresignParam, string>();
  for (const [rawKey, rawValue] of query) {
    if (!/^X/i.test(rawKey)) continue;
    const keyBytes = percentDecode(rawKey);
    const key = keyBytes && Buffer.from(keyBytes).toString("utf8");
    if (!PRESIGN_PARAMS.includes(key as PresignParam)) continue;
    const value = percentDecode(rawValue);
    if (found.has(key as PresignParam) || value === undefined) return undefined;
    found.set(key as PresignParam, Buffer.from(value).toString("utf8"));
  }
  return found;
}

/** parseAuthorization splits `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`. */
function parseAuthorization(value: string): Map<string, string> | string {
  const space = value.indexOf(" ");
  const algorithm = space < 0 ? value : value.slice(0, space);
  if (algorithm !== ALGORITHM) return "unsupported signature algorithm";
  const fields = new Map<string, string>();
  for (const part of value.slice(space + 1).split(",")) {
    const field = part.trim();
    const eq = field.indexOf("=");
    const name = field.slice(0, eq);
    if (eq < 0 || fields.has(name)) return "malformed authorization header";
    if (name !== "Credential" && name !== "SignedHeaders" && name !== "Signature") {
      return "malformed authorization header";
    }
    fields.set(name, field.slice(eq + 1));
  }
  return fields.size === 3 ? fields : "malformed authorization header";
}

/** parseSigV4Auth finds the SigV4 signature in the Authorization header or the query. */
export function parseSigV4Auth(
  headers: Readonly<Record<string, HeaderValue>>,
  query: ReadonlyArray<readonly [string, string]>,
): ParseSigV4AuthResult {
  const authorization = headers.authorization;
  const params = presignParams(query);
  if (params === undefined) return fail("malformed presigned URL");
  const presigned =
    params.has("X-Amz-Algorithm") ||
    params.has("X-Amz-Credential") ||
    params.has("X-Amz-Signature");
  if (authorization !== undefined && presigned) return fail("multiple authentication methods");
  if (authorization === undefined && !presigned) return fail("authentication required");

  let credential: string | undefined;
  let signedHeaders: string | undefined;
  let signature: string | undefined;
  let amzDate: string | undefined;
  let expiresSeconds: number | undefined;
  const malformed = presigned ? "malformed presigned URL" : "malformed authorization header";
  if (presigned) {
    const algorithm = params.get("X-Amz-Algorithm");
    if (algorithm !== undefined && algorithm !== ALGORITHM) {
      return fail("unsupported signature algorithm");
    }
    credential = params.get("X-Amz-Credential");
    signedHeaders = params.get("X-Amz-SignedHeaders");
    signature = params.get("X-Amz-Signature");
    amzDate = params.get("X-Amz-Date");
    const expires = params.get("X-Amz-Expires");
    if (algorithm === undefined || expires === undefined) return fail(malformed);
    expiresSeconds = /^\d{1,7}$/.test(expires) ? Number(expires) : -1;
    if (expiresSeconds < 1 || expiresSeconds > MAX_EXPIRES_SECONDS) {
      return fail("invalid presigned URL expiry");
    }
  } else {
    if (typeof authorization !== "string" || authorization.length > MAX_AUTHORIZATION_LENGTH) {
      return fail(malformed);
    }
    const fields = parseAuthorization(authorization);
    if (typeof fields === "string") return fail(fields);
    credential = fields.get("Credential");
    signedHeaders = fields.get("SignedHeaders");
    signature = fields.get("Signature");
    const dateHeader = headers["x-amz-date"];
    amzDate = typeof dateHeader === "string" ? dateHeader : undefined;
  }
  if (credential === undefined || signedHeaders === undefined || signature === undefined) {
    return fail(malformed);
  }

  // The access key may itself contain `/`, so the scope is read from the right.
  const parts = credential.split("/");
  const [date, region, service, terminator] = parts.slice(-4);
  const accessKey = parts.slice(0, -4).join("/");
  if (
    parts.length < 5 ||
    accessKey === "" ||
    accessKey.length > 256 ||
    terminator !== "aws4_request" ||
    !/^\d{8}$/.test(date ?? "") ||
    !SCOPE_PART_RE.test(region ?? "") ||
    !SCOPE_PART_RE.test(service ?? "")
  ) {
    return fail(malformed);
  }

  const signedHeaderNames = signedHeaders.split(";");
  if (
    !SIGNED_HEADERS_RE.test(signedHeaders) ||
    signedHeaderNames.length > MAX_SIGNED_HEADERS ||
    new Set(signedHeaderNames).size !== signedHeaderNames.length
  ) {
    return fail(malformed);
  }
  if (!signedHeaderNames.includes("host")) return fail("host header must be signed");
  if (!SIGNATURE_RE.test(signature)) return fail(malformed);

  if (amzDate === undefined) return fail("missing x-amz-date");
  const signedAtMs = parseAmzDate(amzDate);
  if (signedAtMs === undefined) return fail("malformed x-amz-date");
  if (amzDate.slice(0, 8) !== date) return fail("credential date does not match x-amz-date");

  const auth: SigV4Auth = {
    presigned,
    accessKey,
    region: region as string,
    service: service as string,
    scope: `${date}/${region}/${service}/aws4_request`,
    signedHeaders,
    signedHeaderNames,
    signature: Buffer.from(signature, "hex"),
    amzDate,
    signedAtMs,
  };
  if (presigned) {
    auth.expiresSeconds = expiresSeconds;
    const queryPayloadHash = params.get("X-Amz-Content-Sha256");
    if (queryPayloadHash !== undefined) auth.queryPayloadHash = queryPayloadHash;
  }
  return { ok: true, auth };
}
