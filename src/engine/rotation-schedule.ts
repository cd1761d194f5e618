import type { StoredKey } from "./backend.js";
import { KmsError } from "./errors.js";

/** MIN_ROTATION_PERIOD_DAYS is the shortest automatic rotation period (AWS's bound). */
export const MIN_ROTATION_PERIOD_DAYS = 90;
/** MAX_ROTATION_PERIOD_DAYS is the longest automatic rotation period (AWS's bound). */
export const MAX_ROTATION_PERIOD_DAYS = 2560;
/** DEFAULT_ROTATION_PERIOD_DAYS is the period when EnableKeyRotation names none (AWS's). */
export const DEFAULT_ROTATION_PERIOD_DAYS = 365;

/**
 * ROTATION_CLAIM_GRACE_MS is how long a claimed automatic rotation may stay
 * unfinished before another sweep (of this or another gateway) takes it over:
 * the claimer crashed or lost its backend between the claim and the rotation.
 */
export const ROTATION_CLAIM_GRACE_MS = 10 * 60_000;

const DAY_MS = 86_400_000;

/** parseRotationPeriod resolves `rotation_period_in_days`: absent → 365, else an integer 90–2560. */
export function parseRotationPeriod(days: unknown): number {
  if (days == null) return DEFAULT_ROTATION_PERIOD_DAYS;
  if (
    typeof days !== "number" ||
    !Number.isInteger(days) ||
    days < MIN_ROTATION_PERIOD_DAYS ||
    days > MAX_ROTATION_PERIOD_DAYS
  ) {
    throw new KmsError(
      "INVALID_ARGUMENT",
      `rotation_period_in_days must be an integer between ${MIN_ROTATION_PERIOD_DAYS} and ${MAX_ROTATION_PERIOD_DAYS}`,
    );
  }
  return days;
}

/** rotationEnabled tells whether a key has a rotation schedule. */
export function rotationEnabled(key: StoredKey): boolean {
  return key.rotationPeriodInDays != null && key.nextRotationDate != null;
}

/** afterPeriod is `from` plus `days` days. */
export function afterPeriod(from: Date, days: number): Date {
  return new Date(from.getTime() + days * DAY_MS);
}

/**
 * rotationDeadline is when the rotation sweep must next look at a key: never
 * unless it is Enabled (a Disabled or pending key is not rotated; once it is
 * Enabled again, an overdue date makes it rotate at the next sweep, as AWS
 * does); an unfinished claim's grace end; else its next rotation date.
 */
export function rotationDeadline(key: StoredKey): number | null {
  if (key.keyState !== "Enabled") return null;
  if (key.rotationClaimedAt != null)
    return key.rotationClaimedAt.getTime() + ROTATION_CLAIM_GRACE_MS;
  if (!rotationEnabled(key)) return null;
  return (key.nextRotationDate as Date).getTime();
}
