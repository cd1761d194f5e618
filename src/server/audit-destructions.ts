import { KEY_DESTROYED_MESSAGE } from "../engine/key-store.js";
import type { AuditLog } from "./audit-log.js";
import type { Logger } from "./logger.js";
import { requestIdOf } from "./request-id.js";

/**
 * auditDestructions passes the engine's log through and, for each key the engine
 * destroys once its deletion date has passed (the sweep, or an access to a due key),
 * writes an audit line: no caller asked for it, so its identity is null. A line
 * that cannot be written is logged; nothing can be failed closed there.
 */
export function auditDestructions(log: Logger, audit: AuditLog): Logger {
  const wrapped: Logger = (level, message, fields) => {
    log(level, message, fields);
    const keyId = fields?.keyId;
    if (message !== KEY_DESTROYED_MESSAGE || typeof keyId !== "string") return;
    audit
      .write({
        requestId: requestIdOf(undefined),
        identity: null,
        source: null,
        action: "kms:SweepDeletion",
        method: null,
        keyIds: [keyId],
        keyVersion: null,
        outcome: "allowed",
        errorCode: null,
        encryptionContext: null,
      })
      .catch((cause: unknown) => {
        log("error", "audit line not written", { action: "kms:SweepDeletion", keyId, cause });
      });
  };
  if (log.writeLine !== undefined) wrapped.writeLine = log.writeLine;
  return wrapped;
}
