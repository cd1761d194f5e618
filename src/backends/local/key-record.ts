import type { StoredKey, StoredKeyVersion } from "../../engine/backend.js";
import type { KeyState, RotationType } from "../../engine/types.js";

/** KEY_RECORD_FORMAT_VERSION is the `formatVersion` of the key files this code writes. */
export const KEY_RECORD_FORMAT_VERSION = 1;

const ROTATION_TYPES: ReadonlySet<string> = new Set<RotationType>(["AUTOMATIC", "ON_DEMAND"]);

const KEY_STATES: ReadonlySet<string> = new Set<KeyState>([
  "Enabled",
  "Disabled",
  "PendingDeletion",
]);

/**
 * encodeKeyRecord turns a StoredKey into the JSON text of its key file: dates as
 * ISO 8601 strings, sealed material as standard base64, and a format version.
 * Throws a TypeError when the key holds an invalid date.
 */
export function encodeKeyRecord(key: StoredKey): string {
  const record = {
    formatVersion: KEY_RECORD_FORMAT_VERSION,
    keyId: key.keyId,
    description: key.description,
    keyState: key.keyState,
    stateBeforeDeletion: key.stateBeforeDeletion,
    creationDate: isoDate(key.creationDate),
    deletionDate: key.deletionDate === null ? null : isoDate(key.deletionDate),
    tags: { ...key.tags },
    versions: key.versions.map((v) => ({
      version: v.version,
      sealedMaterial: Buffer.from(
        v.sealedMaterial.buffer,
        v.sealedMaterial.byteOffset,
        v.sealedMaterial.byteLength,
      ).toString("base64"),
      createdAt: isoDate(v.createdAt),
      ...(v.rotationType === undefined ? {} : { rotationType: v.rotationType }),
    })),
    // Written only when set, so a key without rotation has the file it always had.
    ...(key.rotationPeriodInDays == null ? {} : { rotationPeriodInDays: key.rotationPeriodInDays }),
    ...(key.nextRotationDate == null ? {} : { nextRotationDate: isoDate(key.nextRotationDate) }),
    ...(key.rotationClaimedAt == null ? {} : { rotationClaimedAt: isoDate(key.rotationClaimedAt) }),
  };
  return `${JSON.stringify(record, null, 2)}\n`;
}

/**
 * decodeKeyRecord parses a key file's text back into a StoredKey, checking every
 * field; `expectedKeyId` is the id the file name says it holds. Throws an Error
 * saying which field is wrong (never its value) when the record is invalid.
 */
export function decodeKeyRecord(text: string, expectedKeyId: string): StoredKey {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    // V8's SyntaxError quotes the text around the error; keep file content out of logs.
    throw new Error("key record is not valid JSON");
  }
  if (!isObject(raw)) throw new Error("key record is not a JSON object");
  if (raw.formatVersion !== KEY_RECORD_FORMAT_VERSION) {
    throw new Error("key record has an unsupported formatVersion");
  }
  if (raw.keyId !== expectedKeyId) throw new Error("key record keyId does not match its file name");
  const description = raw.description;
  if (description !== null && typeof description !== "string") {
    throw new Error("key record description is invalid");
  }
  const keyState = keyStateField(raw.keyState, "keyState");
  const stateBeforeDeletion =
    raw.stateBeforeDeletion === null
      ? null
      : keyStateField(raw.stateBeforeDeletion, "stateBeforeDeletion");
  const tags = raw.tags;
  if (!isObject(tags) || Object.values(tags).some((v) => typeof v !== "string")) {
    throw new Error("key record tags are invalid");
  }
  if (!Array.isArray(raw.versions) || raw.versions.length === 0) {
    throw new Error("key record has no versions");
  }
  const versions: StoredKeyVersion[] = [];
  for (const v of raw.versions as unknown[]) {
    if (!isObject(v)) throw new Error("key record version is invalid");
    const version = v.version;
    if (typeof version !== "number" || !Number.isSafeInteger(version)) {
      throw new Error("key record version number is invalid");
    }
    const previous = versions.at(-1);
    if (previous !== undefined && version <= previous.version) {
      throw new Error("key record versions are not ascending");
    }
    const rotationType = v.rotationType;
    if (rotationType !== undefined && !ROTATION_TYPES.has(rotationType as string)) {
      throw new Error("key record version rotationType is invalid");
    }
    versions.push({
      version,
      sealedMaterial: base64Field(v.sealedMaterial),
      createdAt: dateField(v.createdAt, "version createdAt"),
      ...(rotationType === undefined ? {} : { rotationType: rotationType as RotationType }),
    });
  }
  const period = raw.rotationPeriodInDays;
  if (
    period !== undefined &&
    (typeof period !== "number" || !Number.isSafeInteger(period) || period < 1)
  ) {
    throw new Error("key record rotationPeriodInDays is invalid");
  }
  return {
    keyId: expectedKeyId,
    description,
    keyState,
    stateBeforeDeletion,
    creationDate: dateField(raw.creationDate, "creationDate"),
    deletionDate: raw.deletionDate === null ? null : dateField(raw.deletionDate, "deletionDate"),
    tags: { ...(tags as Record<string, string>) },
    versions,
    ...(period === undefined ? {} : { rotationPeriodInDays: period }),
    ...(raw.nextRotationDate === undefined
      ? {}
      : { nextRotationDate: dateField(raw.nextRotationDate, "nextRotationDate") }),
    ...(raw.rotationClaimedAt === undefined
      ? {}
      : { rotationClaimedAt: dateField(raw.rotationClaimedAt, "rotationClaimedAt") }),
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isoDate(date: Date): string {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
    throw new TypeError("key has an invalid date");
  }
  return date.toISOString();
}

function keyStateField(value: unknown, field: string): KeyState {
  if (typeof value !== "string" || !KEY_STATES.has(value)) {
    throw new Error(`key record ${field} is invalid`);
  }
  return value as KeyState;
}

function dateField(value: unknown, field: string): Date {
  const date = typeof value === "string" ? new Date(value) : null;
  if (date === null || Number.isNaN(date.getTime()))
    throw new Error(`key record ${field} is invalid`);
  return date;
}

function base64Field(value: unknown): Uint8Array {
  if (typeof value !== "string") throw new Error("key record sealedMaterial is invalid");
  const bytes = Buffer.from(value, "base64");
  // Buffer's decoder skips junk silently; a lossless round trip proves the text was clean base64.
  if (bytes.toString("base64") !== value) {
    throw new Error("key record sealedMaterial is invalid");
  }
  // A plain copy: small Buffers share a pool, and callers may keep or wipe the bytes.
  return new Uint8Array(bytes);
}
