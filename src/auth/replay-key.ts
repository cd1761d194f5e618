import type { HeaderValue } from "./canonical-request.js";
import { splitQuery } from "./canonical-request.js";
import { parseSigV4Auth } from "./parse-sigv4-auth.js";

/** ReplayKey is what `--reject-replays` remembers of a verified request. */
export interface ReplayKey {
  /** The signature, in hex: two requests differ in it unless one replays the other. */
  signature: string;
  /** How long after its X-Amz-Date a presigned request stays valid (seconds); undefined for a header signature. */
  expiresSeconds?: number;
}

/**
 * replayKeyOf returns the signature of a request whose signature has already been
 * verified (so its form is known to be good), or undefined when it has none.
 * A signature identifies the request it signs: the same method, path, query,
 * signed headers, body hash and X-Amz-Date give the same one, anything else another.
 */
export function replayKeyOf(
  headers: Readonly<Record<string, HeaderValue>>,
  rawQuery: string,
): ReplayKey | undefined {
  const parsed = parseSigV4Auth(headers, splitQuery(rawQuery));
  if (!parsed.ok) return undefined;
  const key: ReplayKey = { signature: parsed.auth.signature.toString("hex") };
  if (parsed.auth.expiresSeconds !== undefined) key.expiresSeconds = parsed.auth.expiresSeconds;
  return key;
}
