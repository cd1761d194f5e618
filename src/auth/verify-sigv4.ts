import { hash, timingSafeEqual } from "node:crypto";
import type { HmacSha256 } from "../hashing/hmac-sha256.js";
import {
  canonicalHeaders,
  canonicalQuery,
  canonicalRequest,
  canonicalUris,
  type HeaderValue,
  splitQuery,
  stringToSign,
} from "./canonical-request.js";
import type { CredentialStore } from "./credential-store.js";
import type { Identity } from "./identity.js";
import { isHex, parseSigV4Auth, type SigV4Auth } from "./parse-sigv4-auth.js";
import { createSigningKeyCache, type SigningKeyCache } from "./signing-key-cache.js";

/** SigV4Request is the part of an HTTP request a SigV4 signature covers. */
export interface SigV4Request {
  method: string;
  /** The path as received, still percent-encoded, without the query. */
  rawPath: string;
  /** The query as received, without `?`. */
  rawQuery: string;
  /** Lowercase header names as Node gives them; may include `:authority` (HTTP/2). */
  headers: Readonly<Record<string, HeaderValue>>;
  /** The buffered body; null when it was not buffered (then only UNSIGNED-PAYLOAD passes). */
  body: Uint8Array | null;
}

/** SigV4Result is the verified caller, or a short reason that is safe to show to the client. */
export type SigV4Result = { ok: true; identity: Identity } | { ok: false; reason: string };

/** VerifySigV4Options tune the checks; all are optional. */
export interface VerifySigV4Options {
  /** The server clock; defaults to now. */
  now?: Date;
  /** Allowed distance between X-Amz-Date and now; defaults to 15 minutes. */
  maxSkewMs?: number;
  /** When set, the credential scope must name this region; otherwise any is accepted. */
  region?: string;
  /** When set, the credential scope must name this service; otherwise any is accepted. */
  service?: string;
  /** Where derived signing keys are kept; defaults to one cache shared by this module. */
  signingKeyCache?: SigningKeyCache;
}

const UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";
const DEFAULT_MAX_SKEW_MS = 15 * 60 * 1000;
const MAX_QUERY_PAIRS = 1000;
/** Signs for unknown access keys, so they cost the same work as a wrong secret. */
const DUMMY_SECRET = "kms-gateway-unknown-access-key-dummy-secret";
const sharedCache = createSigningKeyCache();
/** The options of a call that gives none; never written to. */
const NO_OPTIONS: VerifySigV4Options = Object.freeze({});

const fail = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });
/** The query pairs of a request without a query; never written to. */
const NO_PAIRS: ReadonlyArray<readonly [string, string]> = Object.freeze([]);
/** The query candidates of a request without a query; never written to. */
const EMPTY_QUERY: readonly string[] = Object.freeze([""]);

/**
 * queryCandidates lists the canonical query strings a client may have signed. Unlike the
 * path candidates they are cheap: the second form is only built when a `+` is present.
 */
function queryCandidates(
  rawQuery: string,
  pairs: ReadonlyArray<readonly [string, string]>,
  presigned: boolean,
): readonly string[] {
  // Most calls have no query: its one canonical form is the empty string.
  if (rawQuery === "") return EMPTY_QUERY;
  const omit = presigned ? "X-Amz-Signature" : undefined;
  const candidates: string[] = [];
  const strict = canonicalQuery(pairs, { omit });
  if (strict !== undefined) candidates.push(strict);
  // A literal `+` is a space to form encoders and a plus to RFC 3986 ones.
  const form = rawQuery.includes("+")
    ? canonicalQuery(pairs, { omit, plusAsSpace: true })
    : undefined;
  if (form !== undefined && form !== strict) candidates.push(form);
  // curl 7.88 signs the query exactly as written, unsorted and not re-encoded.
  if (!presigned && rawQuery !== strict && rawQuery !== form) candidates.push(rawQuery);
  return candidates;
}

/** SigV4HeadRequest is a request whose body has not been read (yet). */
export type SigV4HeadRequest = Omit<SigV4Request, "body">;

/**
 * SigV4HeaderResult is the outcome of checking a signature before the body is read:
 * refused; verified (the signature covers the headers and the declared payload hash, so
 * when `bodySha256` is set the body must still hash to it, see checkBodySha256); or
 * undecidable until the body is hashed (no x-amz-content-sha256, as curl --aws-sigv4
 * sends), in which case `finish` completes the check once the body is read.
 */
export type SigV4HeaderResult =
  | { ok: false; reason: string }
  | { ok: true; identity: Identity; bodySha256: string | null }
  | { ok: "needs-body"; finish(body: Uint8Array): SigV4Result };

/**
 * verifySigV4 checks an AWS Signature V4 (AWS4-HMAC-SHA256) in the Authorization header or a
 * presigned query, and returns the caller's identity. It accepts the single and double path
 * encodings clients use, and compares signatures in constant time. Failure reasons never
 * contain the secret, the expected signature or the canonical request. It is
 * verifySigV4Headers followed by the body check that result asks for.
 */
export function verifySigV4(
  req: SigV4Request,
  store: CredentialStore,
  options: VerifySigV4Options = NO_OPTIONS,
): SigV4Result {
  const head = verifySigV4Headers(req, store, options);
  if (head.ok === false) return head;
  if (head.ok === "needs-body") {
    return req.body === null
      ? fail("request body not available to check the payload hash")
      : head.finish(req.body);
  }
  if (head.bodySha256 !== null) {
    if (req.body === null) return fail("request body not available to check the payload hash");
    const mismatch = checkBodySha256(head.bodySha256, req.body);
    if (mismatch !== undefined) return mismatch;
  }
  return { ok: true, identity: head.identity };
}

/**
 * checkBodySha256 returns a failure when `body` does not hash to `expected` (lowercase hex),
 * and undefined when it does.
 */
export function checkBodySha256(
  expected: string,
  body: Uint8Array,
): { ok: false; reason: string } | undefined {
  const actual = sha256Hex(body);
  return actual === expected
    ? undefined
    : { ok: false, reason: "payload hash does not match body" };
}

/**
 * verifySigV4Headers checks everything a SigV4 signature covers except the body, so a server
 * can refuse a bad signature before it reads (and buffers) a single body byte. When the request
 * declares its payload hash (a hex x-amz-content-sha256, or UNSIGNED-PAYLOAD, or a presigned
 * URL, which signs UNSIGNED-PAYLOAD) the signature is decided here; only without a declaration
 * does the signed hash depend on the body, and the result says so. The checks are those of
 * verifySigV4: scope, ±15 minutes of skew, presigned expiry, signed headers present, one
 * constant-time comparison per candidate, and the same work for unknown access keys.
 */
export function verifySigV4Headers(
  req: SigV4HeadRequest,
  store: CredentialStore,
  options: VerifySigV4Options = NO_OPTIONS,
): SigV4HeaderResult {
  const pairs = req.rawQuery === "" ? NO_PAIRS : splitQuery(req.rawQuery);
  if (pairs.length > MAX_QUERY_PAIRS) return fail("too many query parameters");
  const parsed = parseSigV4Auth(req.headers, pairs);
  if (!parsed.ok) return parsed;
  const auth = parsed.auth;
  if (
    (options.region !== undefined && auth.region !== options.region) ||
    (options.service !== undefined && auth.service !== options.service)
  ) {
    return fail("credential scope does not match this server");
  }

  const now = options.now === undefined ? Date.now() : options.now.getTime();
  const maxSkewMs = options.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;
  if (auth.presigned) {
    // A presigned URL is used after it was signed, so only its future side is a skew.
    if (auth.signedAtMs - now > maxSkewMs) return fail("request time too skewed");
    if (now > auth.signedAtMs + (auth.expiresSeconds ?? 0) * 1000) {
      return fail("presigned URL expired");
    }
  } else if (Math.abs(now - auth.signedAtMs) > maxSkewMs) {
    return fail("request time too skewed");
  }

  const declared = req.headers["x-amz-content-sha256"] ?? auth.queryPayloadHash;
  if (Array.isArray(declared)) return fail("malformed x-amz-content-sha256");
  // The payload hash the signature covers, decided without the body when declared.
  if (declared?.startsWith("STREAMING-")) {
    return fail("streaming payload signatures are not supported");
  }
  if (declared !== undefined && declared !== UNSIGNED_PAYLOAD && !isHex(declared, 64)) {
    return fail("malformed x-amz-content-sha256");
  }
  const headers = canonicalHeaders(req.headers, auth.signedHeaderNames);
  if (headers === undefined) return fail("a signed header is missing from the request");

  const credential = store.lookup(auth.accessKey);
  const parts: SignedParts = {
    method: req.method,
    rawPath: req.rawPath,
    queries: queryCandidates(req.rawQuery, pairs, auth.presigned),
    headers,
    auth,
    signer: (options.signingKeyCache ?? sharedCache).signer(
      credential?.secretKey ?? DUMMY_SECRET,
      // The scope's date, parseSigV4Auth's remembered string: X-Amz-Date starts with it.
      auth.date,
      auth.region,
      auth.service,
    ),
  };

  if (declared === undefined) {
    // A presigned URL normally signs UNSIGNED-PAYLOAD: decide it without the body if so.
    if (auth.presigned && credential !== undefined && signatureMatches(parts, UNSIGNED_PAYLOAD)) {
      return { ok: true, identity: credential.identity, bodySha256: null };
    }
    return {
      ok: "needs-body",
      finish: (body) => settle(credential, signatureMatches(parts, sha256Hex(body))),
    };
  }
  const result = settle(credential, signatureMatches(parts, declared));
  if (!result.ok) return result;
  return {
    ok: true,
    identity: result.identity,
    bodySha256: declared === UNSIGNED_PAYLOAD ? null : declared.toLowerCase(),
  };
}

/**
 * SignedParts are what every canonical request a client may have signed shares: the
 * candidates differ only in the path's encoding, the query's and the payload hash.
 */
interface SignedParts {
  method: string;
  rawPath: string;
  queries: readonly string[];
  headers: string;
  auth: SigV4Auth;
  /** HMAC-SHA256 under the derived signing key (a dummy one for an unknown access key). */
  signer: HmacSha256;
}

/**
 * signatureMatches tells whether the request's signature is over one of its canonical
 * requests with this payload hash. Module functions rather than closures per request:
 * this runs on every call.
 */
function signatureMatches(parts: SignedParts, payloadHash: string): boolean {
  // The path exactly as sent is what most clients sign: try it before building the
  // other encodings (canonicalUris yields it first, and is only walked past it).
  const sent = parts.rawPath === "" ? "/" : parts.rawPath;
  if (matchesUri(parts, sent, payloadHash)) return true;
  for (const uri of canonicalUris(parts.rawPath)) {
    if (uri !== sent && matchesUri(parts, uri, payloadHash)) return true;
  }
  return false;
}

/** matchesUri tries each query candidate with one URI, one constant-time comparison each. */
function matchesUri(parts: SignedParts, uri: string, payloadHash: string): boolean {
  const auth = parts.auth;
  const queries = parts.queries;
  for (let i = 0; i < queries.length; i++) {
    const canonical = canonicalRequest({
      method: parts.method,
      uri,
      query: queries[i] as string,
      headers: parts.headers,
      signedHeaders: auth.signedHeaders,
      payloadHash,
    });
    // The string to sign is ASCII by construction (the algorithm, an X-Amz-Date of
    // digits, a scope parseSigV4Auth checked to be visible ASCII, and a hex digest), so
    // digestLatin1 reads it exactly.
    const expected = parts.signer.digestLatin1(stringToSign(auth.amzDate, auth.scope, canonical));
    signatureScratch.write(expected, 0, "latin1");
    if (timingSafeEqual(signatureScratch, auth.signature)) return true;
  }
  return false;
}

/**
 * settle gives one reason for an unknown access key and a wrong secret, after the
 * same work: neither the text nor the timing tells a caller which keys exist.
 */
function settle(credential: { identity: Identity } | undefined, matched: boolean): SigV4Result {
  return credential === undefined || !matched
    ? fail("signature does not match")
    : { ok: true, identity: credential.identity };
}

/** signatureScratch receives each expected signature for the constant-time comparison. */
const signatureScratch = Buffer.alloc(32);

/** sha256Hex hashes a body in one call (no Hash object), as lowercase hex. */
function sha256Hex(body: Uint8Array): string {
  return hash("sha256", body, "hex");
}
