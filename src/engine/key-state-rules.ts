import type { StoredKey } from "./backend.js";
import { KmsError } from "./errors.js";

/**
 * The state rules of contract §6, in one place so that every operation says
 * the same thing when a key's state refuses it:
 *
 *     operation                              Enabled   Disabled   PendingDeletion
 *     DescribeKey                            ok        ok         ok
 *     ScheduleKeyDeletion                    ok        ok         409
 *     CancelKeyDeletion                      409       409        ok (restores the state before)
 *     EnableKey / DisableKey (idempotent)    ok        ok         409
 *     UpdateKeyDescription, TagKey, UntagKey ok        ok         409
 *     RotateKey                              ok        409        409
 *     GenerateDataKey[WithoutPlaintext],
 *     Encrypt, Decrypt, ReEncrypt            ok        409        409
 *
 * A key pending deletion keeps only what leads back (cancel) or nowhere
 * (describe): changing a key that is about to be destroyed would suggest it
 * has a future, as AWS KMS also refuses.
 */

/** assertUsable refuses (INVALID_KEY_STATE) `operation` on a key that is not Enabled. */
export function assertUsable(key: StoredKey, operation: string): void {
  if (key.keyState !== "Enabled") {
    throw new KmsError(
      "INVALID_KEY_STATE",
      `key "${key.keyId}" is ${key.keyState}: ${operation} needs an Enabled key` +
        (key.keyState === "Disabled" ? " (enable it first)" : " (cancel its deletion first)"),
      { keyState: key.keyState },
    );
  }
}

/** assertNotPendingDeletion refuses (INVALID_KEY_STATE) `operation` on a key pending deletion. */
export function assertNotPendingDeletion(key: StoredKey, operation: string): void {
  if (key.keyState === "PendingDeletion") {
    throw new KmsError(
      "INVALID_KEY_STATE",
      `key "${key.keyId}" is PendingDeletion: ${operation} needs an Enabled or Disabled key ` +
        "(cancel its deletion first)",
      { keyState: key.keyState },
    );
  }
}
