import type { StoredKey } from "./backend.js";
import { KmsError } from "./errors.js";
import { parseKeyId } from "./key-id.js";
import { parseListMarker } from "./key-input.js";
import type { KeyContext } from "./key-operations.js";
import { assertUsable } from "./key-state-rules.js";
import { keyNotFound } from "./key-store.js";
import { afterPeriod, parseRotationPeriod, rotationEnabled } from "./rotation-schedule.js";
import type { KeyRotationPage, ListKeyRotationsInput, RotationStatus } from "./types.js";

const DEFAULT_ROTATIONS_LIMIT = 100;
const MAX_ROTATIONS_LIMIT = 1000;

/** rotationStatusOf is a key's automatic-rotation setting as callers see it. */
export function rotationStatusOf(key: StoredKey): RotationStatus {
  const enabled = rotationEnabled(key);
  return {
    keyId: key.keyId,
    rotationEnabled: enabled,
    rotationPeriodInDays: enabled ? (key.rotationPeriodInDays as number) : null,
    nextRotationDate: enabled ? new Date((key.nextRotationDate as Date).getTime()) : null,
  };
}

/**
 * enableKeyRotation turns on automatic rotation of an Enabled key every
 * `rotationPeriodInDays` (90–2560, default 365). The first rotation is due one
 * period from now; enabling again with another period re-schedules from now,
 * with the same period it changes nothing (no write). A Disabled or pending
 * key is refused (INVALID_KEY_STATE), as AWS does.
 */
export async function enableKeyRotation(
  ctx: KeyContext,
  keyId: string,
  rotationPeriodInDays?: number,
): Promise<RotationStatus> {
  const id = parseKeyId(keyId);
  const period = parseRotationPeriod(rotationPeriodInDays);
  const key = await ctx.store.update(id, (current) => {
    assertUsable(current, "EnableKeyRotation");
    if (rotationEnabled(current) && current.rotationPeriodInDays === period) return current;
    return {
      ...current,
      rotationPeriodInDays: period,
      nextRotationDate: afterPeriod(ctx.now(), period),
    };
  });
  return rotationStatusOf(key);
}

/** disableKeyRotation turns automatic rotation off (an Enabled key only, as AWS); idempotent. */
export async function disableKeyRotation(ctx: KeyContext, keyId: string): Promise<RotationStatus> {
  const id = parseKeyId(keyId);
  const key = await ctx.store.update(id, (current) => {
    assertUsable(current, "DisableKeyRotation");
    if (!rotationEnabled(current) && current.rotationClaimedAt == null) return current;
    // A claimed rotation not yet carried out is dropped with the schedule.
    return {
      ...current,
      rotationPeriodInDays: null,
      nextRotationDate: null,
      rotationClaimedAt: null,
    };
  });
  return rotationStatusOf(key);
}

/** getKeyRotationStatus returns a key's rotation setting, in any state. */
export async function getKeyRotationStatus(
  ctx: KeyContext,
  keyId: string,
): Promise<RotationStatus> {
  const id = parseKeyId(keyId);
  const key = await ctx.store.load(id);
  if (key === null) throw keyNotFound(id);
  return rotationStatusOf(key);
}

/**
 * listKeyRotations pages through a key's completed rotations (every version
 * after the first), oldest first: `limit` 1–1000 (default 100), `marker` the
 * previous page's `nextMarker` (a version number).
 */
export async function listKeyRotations(
  ctx: KeyContext,
  keyId: string,
  input: ListKeyRotationsInput,
): Promise<KeyRotationPage> {
  const id = parseKeyId(keyId);
  const limit = input.limit ?? DEFAULT_ROTATIONS_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_ROTATIONS_LIMIT) {
    throw new KmsError(
      "INVALID_ARGUMENT",
      `limit must be an integer between 1 and ${MAX_ROTATIONS_LIMIT}`,
    );
  }
  const marker = parseListMarker(input.marker);
  let after = 1;
  if (marker !== null) {
    if (!/^[1-9][0-9]{0,9}$/.test(marker)) {
      throw new KmsError("INVALID_ARGUMENT", "marker must be the nextMarker of an earlier page");
    }
    after = Number(marker);
  }
  const key = await ctx.store.load(id);
  if (key === null) throw keyNotFound(id);
  const later = key.versions.filter((v) => v.version > after);
  const page = later.slice(0, limit);
  const last = page.at(-1);
  const truncated = later.length > limit && last !== undefined;
  return {
    rotations: page.map((v) => ({
      keyId: id,
      rotationDate: new Date(v.createdAt.getTime()),
      rotationType: v.rotationType ?? "ON_DEMAND",
    })),
    truncated,
    nextMarker: truncated ? String(last.version) : null,
  };
}
