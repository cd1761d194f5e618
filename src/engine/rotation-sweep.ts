import { isKmsError } from "./errors.js";
import { describeFailure, type EngineLog } from "./guard-backend.js";
import type { KeyCustody } from "./key-custody.js";
import { MAX_KEY_VERSIONS } from "./key-lifecycle-operations.js";
import type { KeyStore } from "./key-store.js";
import { afterPeriod, ROTATION_CLAIM_GRACE_MS, rotationEnabled } from "./rotation-schedule.js";

/**
 * MAX_ROTATIONS_PER_SWEEP bounds the keys one sweep rotates (each is a custody
 * rotation and two writes); the rest are still due at the next sweep.
 */
export const MAX_ROTATIONS_PER_SWEEP = 100;

/** KEY_ROTATED_MESSAGE is the engine log's message for each automatic rotation. */
export const KEY_ROTATED_MESSAGE = "key rotated automatically";

/**
 * sweepDueRotations rotates, up to MAX_ROTATIONS_PER_SWEEP, the keys that the
 * store's rotation index says are due, and resolves to how many it rotated.
 * The index is fed by every read of a key, including the deletion sweep's
 * full scans (at start, then hourly), so dates set before a restart or by
 * another replica are found without a scan of its own. One key that fails is
 * logged and skipped; it gives up early when `cancelled()` turns true.
 */
export async function sweepDueRotations(
  store: KeyStore,
  custody: KeyCustody,
  log: EngineLog,
  cancelled: () => boolean = () => false,
): Promise<number> {
  const due = store.rotations.due(store.now()).slice(0, MAX_ROTATIONS_PER_SWEEP);
  let rotated = 0;
  for (const keyId of due) {
    if (cancelled()) break;
    try {
      if (await rotateIfDue(store, custody, log, keyId)) rotated++;
    } catch (error) {
      // Out of the index until the next full scan (or read) brings it back, so
      // keys that keep failing cannot take every sweep's share from the rest.
      store.rotations.forget(keyId);
      log("error", "rotation sweep could not rotate a key", {
        keyId,
        error: describeFailure(error),
      });
    }
  }
  return rotated;
}

/**
 * rotateIfDue carries out one key's due automatic rotation in two writes.
 * The claim moves the next rotation date on by one period and records the
 * claim's time, with the backend's check-and-set: of two replicas that read
 * the same due date, only one claims it (the other re-reads a date in the
 * future and does nothing). Then the claimer makes the new version (type
 * AUTOMATIC) and clears the claim. A crash in between leaves a claim that,
 * once ROTATION_CLAIM_GRACE_MS old, the next sweep takes over and finishes,
 * so a due rotation is neither lost nor done twice.
 */
export async function rotateIfDue(
  store: KeyStore,
  custody: KeyCustody,
  log: EngineLog,
  keyId: string,
): Promise<boolean> {
  const claimAt = store.now();
  let claimed = false;
  try {
    await store.update(keyId, (key) => {
      claimed = false;
      if (key.keyState !== "Enabled") return key;
      if (key.rotationClaimedAt != null) {
        // Another sweep's claim, still within its grace: leave it to finish.
        if (key.rotationClaimedAt.getTime() + ROTATION_CLAIM_GRACE_MS > claimAt.getTime()) {
          return key;
        }
        claimed = true;
        return { ...key, rotationClaimedAt: claimAt };
      }
      if (!rotationEnabled(key) || (key.nextRotationDate as Date).getTime() > claimAt.getTime()) {
        return key;
      }
      claimed = true;
      return {
        ...key,
        nextRotationDate: afterPeriod(claimAt, key.rotationPeriodInDays as number),
        rotationClaimedAt: claimAt,
      };
    });
    if (!claimed) return false;
    let rotated = false;
    await store.update(keyId, async (key) => {
      rotated = false;
      // Taken over by another sweep meanwhile, or disabled since the claim
      // (the claim then waits: enabling the key makes it due again).
      if (key.rotationClaimedAt?.getTime() !== claimAt.getTime()) return key;
      if (key.keyState !== "Enabled") return key;
      if (key.versions.length >= MAX_KEY_VERSIONS) {
        log("warn", "automatic rotation skipped: the key has reached its version limit", {
          keyId,
        });
        return { ...key, rotationClaimedAt: null };
      }
      const version = await custody.rotate(key, claimAt);
      rotated = true;
      return {
        ...key,
        versions: [...key.versions, { ...version, rotationType: "AUTOMATIC" as const }],
        rotationClaimedAt: null,
      };
    });
    if (rotated) log("info", KEY_ROTATED_MESSAGE, { keyId });
    return rotated;
  } catch (error) {
    // Destroyed since it was indexed: nothing to rotate.
    if (isKmsError(error, "KEY_NOT_FOUND")) {
      store.rotations.forget(keyId);
      return false;
    }
    throw error;
  }
}
