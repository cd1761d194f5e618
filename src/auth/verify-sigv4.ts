import { createHmac, timingSafeEqual } from "node:crypto";
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
import { parseSigV4Auth } from "./parse-sigv4-auth.js";
import { payloadHashCandidates } from "./payload-hash.js";
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

const DEFAULT_MAX_SKEW_MS = 15 * 60 * 1000;
const MAX_QUERY_PAIRS = 1000;
/** Signs for unknown access keys, so they cost the same work as a wrong secret. */
const DUMMY_SECRET = "kms-gateway-unknown-access-key-dummy-secret";
const sharedCache = createSigningKeyCache();

const fail = (reason: string): SigV4Result => ({ ok: false, reason });

/**
 * queryCandidates lists the canonical query strings a client may have signed. Unlike the
 * path candidates they are cheap: the second form is only built when a `+` is present.
 */
function queryCandidates(
  rawQuery: string,
  pairs: ReadonlyArray<readonly [string, string]>,
  presigned: boolean,
): string[] {
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

/**
 * verifySigV4 checks an AWS Signature V4 (AWS4-HMAC-SHA256) in the Authorization header or a
 * presigned query, and returns the caller's identity. It accepts the single and double path
 * encodings clients use, and compares signatures in constant time. Failure reasons never
 * contain the secret, the expected signature or the canonical request.
 */
export function verifySigV4(
  req: SigV4Request,
  store: CredentialStore,
  options: VerifySigV4Options = {},
): SigV4Result {
  const pairs = splitQuery(req.rawQuery);
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

  const now = (options.now ?? new Date()).getTime();
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
  const payload = payloadHashCandidates(declared, req.body, auth.presigned);
  if (!payload.ok) return payload;
  const headers = canonicalHeaders(req.headers, auth.signedHeaderNames);
  if (headers === undefined) return fail("a signed header is missing from the request");
  const queries = queryCandidates(req.rawQuery, pairs, auth.presigned);

  const credential = store.lookup(auth.accessKey);
  const [date] = auth.scope.split("/", 1) as [string];
  const key = (options.signingKeyCache ?? sharedCache).get(
    credential?.secretKey ?? DUMMY_SECRET,
    date,
    auth.region,
    auth.service,
  );
  let matched = false;
  search: for (const uri of canonicalUris(req.rawPath)) {
    for (const query of queries) {
      for (const payloadHash of payload.hashes) {
        const canonical = canonicalRequest({
          method: req.method,
          uri,
          query,
          headers,
          signedHeaders: auth.signedHeaders,
          payloadHash,
        });
        const expected = createHmac("sha256", key)
          .update(stringToSign(auth.amzDate, auth.scope, canonical))
          .digest();
        if (timingSafeEqual(expected, auth.signature)) {
          matched = true;
          break search;
        }
      }
    }
  }
  // One reason for an unknown access key and a wrong secret, after the same
  // work: neither the text nor the timing tells a caller which keys exist.
  if (credential === undefined || !matched) return fail("signature does not match");
  return { ok: true, identity: credential.identity };
}
