/** AUTH_FAILURE_CATEGORIES are the values of the `reason` label of kms_gateway_auth_failures_total. */
export const AUTH_FAILURE_CATEGORIES = [
  "missing",
  "malformed",
  "signature",
  "time",
  "payload_hash",
  "scope",
  "replay",
  "other",
] as const;

/** AuthFailureCategory is one of AUTH_FAILURE_CATEGORIES. */
export type AuthFailureCategory = (typeof AUTH_FAILURE_CATEGORIES)[number];

/**
 * authFailureCategory folds a SigV4 verifier's reason into a small closed set. The
 * verifier's reasons are short fixed sentences, but some name a header or field, and
 * new ones appear as the verifier grows: a category keeps the label's values few and
 * known, whatever the text says. An unknown access key and a wrong secret share the
 * verifier's one reason ("signature does not match"), so they share `signature` here.
 */
export function authFailureCategory(reason: string): AuthFailureCategory {
  const text = reason.toLowerCase();
  if (text.includes("replay")) return "replay";
  if (text.includes("required") || text.includes("missing")) return "missing";
  if (text.includes("payload hash") || text.includes("content-sha256")) return "payload_hash";
  if (text.includes("signature does not match")) return "signature";
  if (text.includes("skewed") || text.includes("expired")) return "time";
  if (text.includes("scope") || text.includes("date does not match")) return "scope";
  if (
    text.includes("malformed") ||
    text.includes("unsupported") ||
    text.includes("invalid") ||
    text.includes("too many") ||
    text.includes("multiple") ||
    text.includes("must be signed")
  ) {
    return "malformed";
  }
  return "other";
}
