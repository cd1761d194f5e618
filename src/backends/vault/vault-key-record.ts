import type { StoredKey } from "../../engine/backend.js";
import { KmsError } from "../../engine/errors.js";
import type { KeyState, RotationType } from "../../engine/types.js";

/**
 * VAULT_RECORD_FORMAT versions the JSON a key's metadata is kept as in KV v2
 * (`{kv_mount}/data/{key_path_prefix}/{key}`):
 *
 *     {"format": 1, "key_id", "description", "key_state", "state_before_deletion",
 *      "creation_date", "deletion_date", "tags": {...},
 *      "versions": [{"version", "created_at", "sealed_material": "<b64, empty>"}],
 *      "key_usage": "ENCRYPT_DECRYPT", "key_spec": "AES_256", "custody": "vault-transit"}
 *
 * plus, only when set: `rotation_type` ("AUTOMATIC" / "ON_DEMAND") on a
 * version, `rotation_period_days`, `next_rotation_date` and
 * `rotation_claimed_at` (automatic rotation). Records without them still load.
 *
 * Dates are RFC 3339 strings. There is no key material in it: Transit holds it.
 */
export const VAULT_RECORD_FORMAT = 1;

const STATES: readonly KeyState[] = ["Enabled", "Disabled", "PendingDeletion"];
const ROTATION_TYPES: readonly RotationType[] = ["AUTOMATIC", "ON_DEMAND"];

/** encodeVaultKeyRecord is the KV v2 `data` of a key. */
export function encodeVaultKeyRecord(key: StoredKey): Record<string, unknown> {
  return {
    format: VAULT_RECORD_FORMAT,
    key_id: key.keyId,
    description: key.description,
    key_state: key.keyState,
    state_before_deletion: key.stateBeforeDeletion,
    creation_date: key.creationDate.toISOString(),
    deletion_date: key.deletionDate?.toISOString() ?? null,
    tags: { ...key.tags },
    versions: key.versions.map((v) => ({
      version: v.version,
      created_at: v.createdAt.toISOString(),
      sealed_material: Buffer.from(v.sealedMaterial).toString("base64"),
      ...(v.rotationType === undefined ? {} : { rotation_type: v.rotationType }),
    })),
    // Written only when set, so a record without rotation reads as it always did.
    ...(key.rotationPeriodInDays == null ? {} : { rotation_period_days: key.rotationPeriodInDays }),
    ...(key.nextRotationDate == null
      ? {}
      : { next_rotation_date: key.nextRotationDate.toISOString() }),
    ...(key.rotationClaimedAt == null
      ? {}
      : { rotation_claimed_at: key.rotationClaimedAt.toISOString() }),
    key_usage: "ENCRYPT_DECRYPT",
    key_spec: "AES_256",
    custody: "vault-transit",
  };
}

/**
 * decodeVaultKeyRecord reads what encodeVaultKeyRecord wrote for `keyId`, or
 * rejects with BACKEND_ERROR naming the key and the field (never a value).
 */
export function decodeVaultKeyRecord(keyId: string, data: unknown): StoredKey {
  const bad = (field: string) =>
    new KmsError("BACKEND_ERROR", `the Vault record of key "${keyId}" is damaged (${field})`);
  if (typeof data !== "object" || data === null) throw bad("not an object");
  const r = data as Record<string, unknown>;
  if (r.format !== VAULT_RECORD_FORMAT) throw bad("format");
  if (r.key_id !== keyId) throw bad("key_id");
  if (r.description !== null && typeof r.description !== "string") throw bad("description");
  const keyState = r.key_state as KeyState;
  if (!STATES.includes(keyState)) throw bad("key_state");
  const before = r.state_before_deletion as KeyState | null;
  if (before !== null && !STATES.includes(before)) throw bad("state_before_deletion");
  const creationDate = date(r.creation_date, () => bad("creation_date"));
  const deletionDate =
    r.deletion_date === null ? null : date(r.deletion_date, () => bad("deletion_date"));
  if (typeof r.tags !== "object" || r.tags === null || Array.isArray(r.tags)) throw bad("tags");
  // A null prototype, so a tag named `__proto__` stays a tag.
  const tags: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries(r.tags)) {
    if (typeof v !== "string") throw bad("tags");
    tags[k] = v;
  }
  if (!Array.isArray(r.versions) || r.versions.length === 0) throw bad("versions");
  const versions = r.versions.map((v: unknown) => {
    const entry = v as Record<string, unknown> | null;
    if (
      entry === null ||
      typeof entry !== "object" ||
      !Number.isInteger(entry.version) ||
      typeof entry.sealed_material !== "string"
    ) {
      throw bad("versions");
    }
    const rotationType = entry.rotation_type;
    if (rotationType !== undefined && !ROTATION_TYPES.includes(rotationType as RotationType)) {
      throw bad("versions");
    }
    return {
      version: entry.version as number,
      createdAt: date(entry.created_at, () => bad("versions")),
      sealedMaterial: new Uint8Array(Buffer.from(entry.sealed_material, "base64")),
      ...(rotationType === undefined ? {} : { rotationType: rotationType as RotationType }),
    };
  });
  const period = r.rotation_period_days;
  if (period !== undefined && (!Number.isInteger(period) || (period as number) < 1)) {
    throw bad("rotation_period_days");
  }
  const rotation = {
    ...(period === undefined ? {} : { rotationPeriodInDays: period as number }),
    ...(r.next_rotation_date === undefined
      ? {}
      : { nextRotationDate: date(r.next_rotation_date, () => bad("next_rotation_date")) }),
    ...(r.rotation_claimed_at === undefined
      ? {}
      : { rotationClaimedAt: date(r.rotation_claimed_at, () => bad("rotation_claimed_at")) }),
  };
  return {
    keyId,
    description: r.description as string | null,
    keyState,
    stateBeforeDeletion: before,
    creationDate,
    deletionDate,
    tags,
    versions,
    ...rotation,
  };
}

function date(value: unknown, bad: () => KmsError): Date {
  if (typeof value !== "string") throw bad();
  const parsed = new Date(value);
  if (Number.isNaN(parsed.getTime())) throw bad();
  return parsed;
}
