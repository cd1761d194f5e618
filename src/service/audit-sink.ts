/** AuditEntry is one audited call (or one destruction by the deletion sweep), as the service layer reports it. */
export interface AuditEntry {
  requestId: string;
  /** The caller's access key; null for the deletion sweep, which no caller asked for. */
  identity: string | null;
  /** The client's address. */
  source: string | null;
  /** The action (`kms:GenerateDataKey`), or `kms:SweepDeletion` for the sweep's destructions. */
  action: string;
  /** The RPC (`Decrypt`), when the entry is for a call. */
  method: string | null;
  /** The keys the call touched (re-encrypt: source and destination); empty when not known. */
  keyIds: readonly string[];
  /** The key version used, when one was. */
  keyVersion: number | null;
  outcome: "allowed" | "denied" | "failed";
  /** The error code when the outcome is not `allowed` (`PermissionDenied`, `NotFound`…). */
  errorCode: string | null;
  /** The encryption context; only its keys are written, each value as a truncated hash. */
  encryptionContext: Readonly<Record<string, string>> | null;
  /** Re-encrypt's destination encryption context, written the same way. */
  destinationEncryptionContext?: Readonly<Record<string, string>> | null;
}

/**
 * AuditSink takes one audit entry and resolves once it is recorded (on disk for
 * a file); it rejects when it cannot be, so the call can fail closed.
 */
export type AuditSink = (entry: AuditEntry) => Promise<void>;
