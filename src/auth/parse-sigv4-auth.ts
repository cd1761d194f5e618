import type { HeaderValue } from "./canonical-request.js";
import { percentDecode } from "./percent-encoding.js";

/** The only algorithm accepted; SigV4a (ECDSA) and SigV2 are refused. */
const ALGORITHM = "AWS4-HMAC-SHA256";
/** Presigned URLs may live at most a week, as on AWS. */
const MAX_EXPIRES_SECONDS = 604_800;
/** Bounds on client-controlled sizes. */
const MAX_AUTHORIZATION_LENGTH = 4096;
const MAX_SIGNED_HEADERS = 64;

/**
 * TOKEN_CHAR marks the characters of a lowercase HTTP header name (RFC 9110 tchar, no
 * upper case), by char code; the checks below walk strings with tables like this one
 * instead of regular expressions, since they run on every request.
 */
const TOKEN_CHAR: readonly boolean[] = Array.from({ length: 128 }, (_, c) =>
  /[a-z0-9!#$%&'*+.^_`|~-]/.test(String.fromCharCode(c)),
);

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
  /** The scope's date (`YYYYMMDD`), which is X-Amz-Date's. */
  date: string;
  /** The signed header list exactly as sent, and split. */
  signedHeaders: string;
  signedHeaderNames: readonly string[];
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

/** isDigits tells whether `value[from, to)` is ASCII digits only (and not empty). */
function isDigits(value: string, from: number, to: number): boolean {
  if (to <= from) return false;
  for (let i = from; i < to; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** isHex tells whether a string is exactly `length` hexadecimal digits, either case. */
export function isHex(value: string, length: number): boolean {
  if (value.length !== length) return false;
  for (let i = 0; i < length; i++) {
    const c = value.charCodeAt(i) | 0x20;
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

/** isScopePart tells whether a region or service name is 1–64 visible ASCII characters. */
function isScopePart(value: string | undefined): boolean {
  if (value === undefined || value.length < 1 || value.length > 64) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

/**
 * isSignedHeaderList tells whether a SignedHeaders value is lowercase header names
 * joined by `;` (no empty name).
 */
function isSignedHeaderList(value: string): boolean {
  let nameLength = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x3b) {
      if (nameLength === 0) return false;
      nameLength = 0;
    } else if (c < 128 && TOKEN_CHAR[c] === true) {
      nameLength++;
    } else {
      return false;
    }
  }
  return nameLength > 0;
}

/** hasDuplicate tells whether a short list repeats a name (at most 64, so pairs are cheap). */
function hasDuplicate(names: readonly string[]): boolean {
  for (let i = 1; i < names.length; i++) {
    for (let j = 0; j < i; j++) {
      if (names[i] === names[j]) return true;
    }
  }
  return false;
}

/** The last date parsed: requests signed in the same second carry the same X-Amz-Date. */
let lastAmzDate = "";
let lastAmzDateMs = 0;

/** parseAmzDate returns the epoch milliseconds of a `YYYYMMDDTHHMMSSZ` date, or undefined. */
export function parseAmzDate(value: string): number | undefined {
  if (value === lastAmzDate) return lastAmzDateMs;
  if (
    value.length !== 16 ||
    value[8] !== "T" ||
    value[15] !== "Z" ||
    !isDigits(value, 0, 8) ||
    !isDigits(value, 9, 15)
  ) {
    return undefined;
  }
  const y = Number(value.slice(0, 4));
  const mo = Number(value.slice(4, 6));
  const d = Number(value.slice(6, 8));
  const h = Number(value.slice(9, 11));
  const mi = Number(value.slice(11, 13));
  const s = Number(value.slice(13, 15));
  const leap = mo === 2 && ((y % 4 === 0 && y % 100 !== 0) || y % 400 === 0) ? 1 : 0;
  // Date.UTC would silently roll 20240231 over into March.
  if (mo < 1 || mo > 12 || d < 1 || d > (DAYS_IN_MONTH[mo - 1] as number) + leap) return undefined;
  if (h > 23 || mi > 59 || s > 59) return undefined;
  // Not Date.UTC either: it reads years 0-99 as 1900-1999.
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, s, 0);
  lastAmzDate = value;
  lastAmzDateMs = date.getTime();
  return lastAmzDateMs;
}

/** noParams is what presignParams finds in a query without any; never written to. */
const noParams: ReadonlyMap<PresignParam, string> = new Map();

/** presignParams picks the X-Amz-* parameters out of the query; a repeated one is an error. */
function presignParams(
  query: ReadonlyArray<readonly [string, string]>,
): ReadonlyMap<PresignParam, string> | undefined {
  if (query.length === 0) return noParams;
  const found = new Map<PresignParam, string>();
  for (const [rawKey, rawValue] of query) {
    if ((rawKey.charCodeAt(0) | 0x20) !== 0x78) continue; // not an x or X
    const keyBytes = percentDecode(rawKey);
    const key = keyBytes && Buffer.from(keyBytes).toString("utf8");
    if (!PRESIGN_PARAMS.includes(key as PresignParam)) continue;
    const value = percentDecode(rawValue);
    if (found.has(key as PresignParam) || value === undefined) return undefined;
    found.set(key as PresignParam, Buffer.from(value).toString("utf8"));
  }
  return found;
}

/** AuthorizationFields are the three fields of a SigV4 Authorization header. */
interface AuthorizationFields {
  credential: string;
  signedHeaders: string;
  signature: string;
  /** The signature's bytes when already decoded (a cache hit checks them), else undefined. */
  signatureBytes?: Buffer | undefined;
}

/** SIGNATURE_HEX is the length of a signature in hex. */
const SIGNATURE_HEX = 64;

/**
 * decodeSignature returns the 32 bytes of a signature of exactly 64 hex digits
 * (either case), or undefined. One pass: Buffer.from stops at the first pair
 * that is not hex, so a full 32 bytes means every digit was one.
 */
function decodeSignature(signature: string): Buffer | undefined {
  if (signature.length !== SIGNATURE_HEX) return undefined;
  const bytes = Buffer.from(signature, "hex");
  return bytes.length === SIGNATURE_HEX / 2 ? bytes : undefined;
}

/**
 * The last Authorization header that parsed and ended in its signature, less
 * those 64 hex digits, with its two other fields. A client sends the same
 * prefix request after request (only the signature changes; the date is its own
 * header), so most requests find it here and skip the splitting. A hit is what
 * parsing gives: the prefix ends in the last field's `Signature=`, and a tail of
 * 64 hex digits holds no comma and no space, so the fields before it split
 * exactly as before and the signature field's value is that tail.
 */
let lastPrefix = "";
let lastPrefixFields: AuthorizationFields | undefined;

/**
 * parseAuthorization splits `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`:
 * each of the three fields exactly once, in any order, and nothing else.
 */
function parseAuthorization(value: string): AuthorizationFields | string {
  const prefixLength = value.length - SIGNATURE_HEX;
  if (
    lastPrefixFields !== undefined &&
    prefixLength === lastPrefix.length &&
    // Not startsWith: V8 compares a slice with === several times faster.
    value.slice(0, prefixLength) === lastPrefix
  ) {
    const signature = value.slice(prefixLength);
    const signatureBytes = decodeSignature(signature);
    if (signatureBytes !== undefined) {
      return {
        credential: lastPrefixFields.credential,
        signedHeaders: lastPrefixFields.signedHeaders,
        signature,
        signatureBytes,
      };
    }
  }
  const fields = splitAuthorization(value);
  if (
    typeof fields !== "string" &&
    fields.signature.length === SIGNATURE_HEX &&
    // The last field is the signature itself (each name occurs once), not a
    // value that merely ends like one.
    value.slice(value.lastIndexOf(",") + 1).trimStart() === `Signature=${fields.signature}`
  ) {
    lastPrefix = value.slice(0, prefixLength);
    lastPrefixFields = fields;
  }
  return fields;
}

/** splitAuthorization is parseAuthorization without the cache. */
function splitAuthorization(value: string): AuthorizationFields | string {
  const space = value.indexOf(" ");
  const algorithm = space < 0 ? value : value.slice(0, space);
  if (algorithm !== ALGORITHM) return "unsupported signature algorithm";
  const malformed = "malformed authorization header";
  let credential: string | undefined;
  let signedHeaders: string | undefined;
  let signature: string | undefined;
  let start = space + 1;
  while (true) {
    const comma = value.indexOf(",", start);
    const field = value.slice(start, comma < 0 ? value.length : comma).trim();
    const eq = field.indexOf("=");
    if (eq < 0) return malformed;
    const name = field.slice(0, eq);
    const fieldValue = field.slice(eq + 1);
    if (name === "Credential" && credential === undefined) credential = fieldValue;
    else if (name === "SignedHeaders" && signedHeaders === undefined) signedHeaders = fieldValue;
    else if (name === "Signature" && signature === undefined) signature = fieldValue;
    else return malformed;
    if (comma < 0) break;
    start = comma + 1;
  }
  if (credential === undefined || signedHeaders === undefined || signature === undefined) {
    return malformed;
  }
  return { credential, signedHeaders, signature };
}

/** CredentialScope is a Credential value split: the access key and its scope. */
interface CredentialScope {
  accessKey: string;
  date: string;
  region: string;
  service: string;
  /** `date/region/service/aws4_request`. */
  scope: string;
}

/**
 * The last Credential and SignedHeaders values parsed, with what they parsed to
 * (undefined: malformed). A client signs with the same credential scope and the
 * same header list request after request (only the signature and the date
 * change), so most requests find both here and skip the splitting, the checks
 * and the allocations. Each is a pure function of its one string, so a hit is
 * exactly what parsing again would give; the results are frozen, never written.
 */
let lastCredential = "";
let lastScope: CredentialScope | undefined;
let lastSignedHeaders = "";
let lastSignedHeaderNames: readonly string[] | undefined;

/** parseCredential splits `accessKey/date/region/service/aws4_request`, or returns undefined. */
function parseCredential(credential: string): CredentialScope | undefined {
  if (credential === lastCredential && credential !== "") return lastScope;
  // The access key may itself contain `/`, so the scope is read from the right.
  const terminatorAt = credential.lastIndexOf("/");
  const serviceAt = terminatorAt > 0 ? credential.lastIndexOf("/", terminatorAt - 1) : -1;
  const regionAt = serviceAt > 0 ? credential.lastIndexOf("/", serviceAt - 1) : -1;
  const dateAt = regionAt > 0 ? credential.lastIndexOf("/", regionAt - 1) : -1;
  let scope: CredentialScope | undefined;
  if (dateAt >= 0) {
    const accessKey = credential.slice(0, dateAt);
    const date = credential.slice(dateAt + 1, regionAt);
    const region = credential.slice(regionAt + 1, serviceAt);
    const service = credential.slice(serviceAt + 1, terminatorAt);
    if (
      accessKey !== "" &&
      accessKey.length <= 256 &&
      credential.slice(terminatorAt + 1) === "aws4_request" &&
      date.length === 8 &&
      isDigits(date, 0, 8) &&
      isScopePart(region) &&
      isScopePart(service)
    ) {
      scope = Object.freeze({
        accessKey,
        date,
        region,
        service,
        scope: `${date}/${region}/${service}/aws4_request`,
      });
    }
  }
  lastCredential = credential;
  lastScope = scope;
  return scope;
}

/**
 * parseSignedHeaders splits a SignedHeaders value into its names: lowercase
 * header names joined by `;`, at most MAX_SIGNED_HEADERS, none repeated; else
 * undefined.
 */
function parseSignedHeaders(signedHeaders: string): readonly string[] | undefined {
  if (signedHeaders === lastSignedHeaders && signedHeaders !== "") return lastSignedHeaderNames;
  let names: readonly string[] | undefined;
  if (isSignedHeaderList(signedHeaders)) {
    const split = signedHeaders.split(";");
    if (split.length <= MAX_SIGNED_HEADERS && !hasDuplicate(split)) names = Object.freeze(split);
  }
  lastSignedHeaders = signedHeaders;
  lastSignedHeaderNames = names;
  return names;
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
    params !== noParams &&
    (params.has("X-Amz-Algorithm") ||
      params.has("X-Amz-Credential") ||
      params.has("X-Amz-Signature"));
  if (authorization !== undefined && presigned) return fail("multiple authentication methods");
  if (authorization === undefined && !presigned) return fail("authentication required");

  let credential: string | undefined;
  let signedHeaders: string | undefined;
  let signature: string | undefined;
  let decoded: Buffer | undefined;
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
    expiresSeconds =
      expires.length <= 7 && isDigits(expires, 0, expires.length) ? Number(expires) : -1;
    if (expiresSeconds < 1 || expiresSeconds > MAX_EXPIRES_SECONDS) {
      return fail("invalid presigned URL expiry");
    }
  } else {
    if (typeof authorization !== "string" || authorization.length > MAX_AUTHORIZATION_LENGTH) {
      return fail(malformed);
    }
    const fields = parseAuthorization(authorization);
    if (typeof fields === "string") return fail(fields);
    credential = fields.credential;
    signedHeaders = fields.signedHeaders;
    signature = fields.signature;
    decoded = fields.signatureBytes;
    const dateHeader = headers["x-amz-date"];
    amzDate = typeof dateHeader === "string" ? dateHeader : undefined;
  }
  if (credential === undefined || signedHeaders === undefined || signature === undefined) {
    return fail(malformed);
  }

  const scope = parseCredential(credential);
  if (scope === undefined) return fail(malformed);
  const signedHeaderNames = parseSignedHeaders(signedHeaders);
  if (signedHeaderNames === undefined) return fail(malformed);
  if (!signedHeaderNames.includes("host")) return fail("host header must be signed");
  const signatureBytes = decoded ?? decodeSignature(signature);
  if (signatureBytes === undefined) return fail(malformed);

  if (amzDate === undefined) return fail("missing x-amz-date");
  const signedAtMs = parseAmzDate(amzDate);
  if (signedAtMs === undefined) return fail("malformed x-amz-date");
  if (!amzDate.startsWith(scope.date)) return fail("credential date does not match x-amz-date");

  const auth: SigV4Auth = {
    presigned,
    accessKey: scope.accessKey,
    region: scope.region,
    service: scope.service,
    scope: scope.scope,
    date: scope.date,
    signedHeaders,
    signedHeaderNames,
    signature: signatureBytes,
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
