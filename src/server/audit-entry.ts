import { createHash } from "node:crypto";

/** AuditEntry is one audited call, as the service layer reports it. */
export interface AuditEntry {
  requestId: string;
  /** The caller's access key, or null when the call was refused before authentication. */
  identity: string | null;
  /** The client's address. */
  source: string | null;
  /** The action (`kms:GenerateDataKey`), or `kms:SweepDeletion` for the sweep's destructions. */
  action: string;
  /** The keys the call touched (re-encrypt: source and destination). */
  keyIds: readonly string[];
  /** The key version used, when one was. */
  keyVersion: number | null;
  outcome: "allowed" | "denied" | "failed";
  /** The error code when the outcome is not `allowed` (`PermissionDenied`, `InvalidKeyState`…). */
  errorCode: string | null;
  /** The encryption context; only its keys are written, each value as a truncated hash. */
  encryptionContext: Readonly<Record<string, string>> | null;
}

/** CONTEXT_HASH_HEX_DIGITS is how much of a value's SHA-256 the log keeps (64 bits). */
export const CONTEXT_HASH_HEX_DIGITS = 16;

/**
 * formatAuditLine renders an entry as one JSON line: never a plaintext, key
 * material, secret or token (none is in AuditEntry), and no encryption-context
 * value: each is replaced by `sha256:` and the first 16 hex digits of its SHA-256,
 * enough to correlate calls, too little to read or confirm a low-entropy value
 * cheaply at scale.
 */
export function formatAuditLine(entry: AuditEntry, time: Date): string {
  let context: Record<string, string> | null = null;
  if (entry.encryptionContext) {
    context = {};
    for (const key of Object.keys(entry.encryptionContext).sort()) {
      const value = entry.encryptionContext[key] as string;
      const digest = createHash("sha256").update(value, "utf8").digest("hex");
      Object.defineProperty(context, key, {
        value: `sha256:${digest.slice(0, CONTEXT_HASH_HEX_DIGITS)}`,
        enumerable: true,
      });
    }
  }
  return `${JSON.stringify({
    time: time.toISOString(),
    type: "audit",
    requestId: entry.requestId,
    identity: entry.identity,
    source: entry.source,
    action: entry.action,
    keyIds: entry.keyIds,
    keyVersion: entry.keyVersion,
    outcome: entry.outcome,
    errorCode: entry.errorCode,
    encryptionContext: context,
  })}\n`;
}
