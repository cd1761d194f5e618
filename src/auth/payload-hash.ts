import { createHash } from "node:crypto";

/** UNSIGNED_PAYLOAD is what callers that cannot hash the body (gRPC streams) sign. */
const UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";
const HEX_SHA256_RE = /^[0-9a-fA-F]{64}$/;

/** PayloadHashResult lists the payload hashes a signature may cover, or why none is acceptable. */
export type PayloadHashResult = { ok: true; hashes: string[] } | { ok: false; reason: string };

/**
 * payloadHashCandidates decides which payload hash goes into the canonical request.
 *
 * `declared` is x-amz-content-sha256 (for presigned URLs, the header or X-Amz-Content-Sha256):
 * a hex hash must equal sha256(body), UNSIGNED-PAYLOAD is taken as is, STREAMING-* is refused.
 * When nothing is declared the body is hashed (curl --aws-sigv4 sends no header); a presigned
 * URL then may also have signed UNSIGNED-PAYLOAD. A null body means "not buffered", so only
 * UNSIGNED-PAYLOAD can be checked; pass an empty buffer for a request without a body.
 */
export function payloadHashCandidates(
  declared: string | string[] | undefined,
  body: Uint8Array | null,
  presigned: boolean,
): PayloadHashResult {
  if (Array.isArray(declared)) return { ok: false, reason: "malformed x-amz-content-sha256" };
  if (declared === UNSIGNED_PAYLOAD) return { ok: true, hashes: [declared] };
  if (declared?.startsWith("STREAMING-")) {
    return { ok: false, reason: "streaming payload signatures are not supported" };
  }
  if (declared !== undefined && !HEX_SHA256_RE.test(declared)) {
    return { ok: false, reason: "malformed x-amz-content-sha256" };
  }
  if (body === null) {
    return presigned && declared === undefined
      ? { ok: true, hashes: [UNSIGNED_PAYLOAD] }
      : { ok: false, reason: "request body not available to check the payload hash" };
  }
  const actual = createHash("sha256").update(body).digest("hex");
  if (declared === undefined) {
    return { ok: true, hashes: presigned ? [UNSIGNED_PAYLOAD, actual] : [actual] };
  }
  if (declared.toLowerCase() !== actual) {
    return { ok: false, reason: "payload hash does not match body" };
  }
  return { ok: true, hashes: [declared] };
}
