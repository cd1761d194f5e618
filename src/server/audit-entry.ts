import { createHash } from "node:crypto";
import type { AuditEntry } from "../service/audit-sink.js";

export type { AuditEntry } from "../service/audit-sink.js";

/** CONTEXT_HASH_HEX_DIGITS is how much of a value's SHA-256 the log keeps (64 bits). */
export const CONTEXT_HASH_HEX_DIGITS = 16;

/**
 * formatAuditLine renders an entry as one JSON line: never a plaintext, key
 * material, secret or token (none is in AuditEntry), and no encryption-context
 * value: each is replaced by `sha256:` and the first 16 hex digits of its SHA-256,
 * enough to correlate calls without writing the value. (A value with little
 * entropy can still be confirmed by hashing guesses; docs/identities.md says so.)
 */
export function formatAuditLine(entry: AuditEntry, time: Date): string {
  return `${JSON.stringify({
    time: time.toISOString(),
    type: "audit",
    requestId: entry.requestId,
    identity: entry.identity,
    source: entry.source,
    action: entry.action,
    method: entry.method,
    keyIds: entry.keyIds,
    keyVersion: entry.keyVersion,
    outcome: entry.outcome,
    errorCode: entry.errorCode,
    encryptionContext: hashedContext(entry.encryptionContext),
    destinationEncryptionContext: hashedContext(entry.destinationEncryptionContext ?? null),
  })}\n`;
}

/** hashedContext keeps a context's keys (sorted) and replaces each value by its truncated SHA-256. */
function hashedContext(
  context: Readonly<Record<string, string>> | null,
): Record<string, string> | null {
  if (context === null) return null;
  const hashed: Record<string, string> = {};
  for (const key of Object.keys(context).sort()) {
    const digest = createHash("sha256")
      .update(context[key] as string, "utf8")
      .digest("hex");
    // defineProperty: a context key named __proto__ must stay a plain key.
    Object.defineProperty(hashed, key, {
      value: `sha256:${digest.slice(0, CONTEXT_HASH_HEX_DIGITS)}`,
      enumerable: true,
    });
  }
  return hashed;
}
