import { createCipheriv, createDecipheriv, randomBytes, scrypt } from "node:crypto";
import type { KeyBackend } from "./backend.js";
import { KmsError } from "./errors.js";

/**
 * KeyringFile is what a backend keeps so the engine can re-derive and check its
 * key-encryption key (KEK) from the master key: how the KEK is derived and a
 * check value (AES-256-GCM of a constant under the KEK). None of it is secret.
 * Stored as UTF-8 JSON, one of:
 *
 *     {"format":1,"kdf":"scrypt","n":32768,"r":8,"p":1,"salt":"<b64>","check":"<b64>"}
 *     {"format":1,"kdf":"raw","check":"<b64>"}
 *
 * `raw`: the master key is standard base64 of exactly 32 bytes, which are the
 * KEK as they are. `scrypt`: any other master key (a passphrase), stretched
 * with the recorded cost and the directory's own random salt. Keyrings written
 * before `raw` existed say `scrypt` for every master key and keep deriving it
 * that way, so their key directories open as before.
 */
export type KeyringFile =
  | {
      format: 1;
      kdf: "scrypt";
      n: number;
      r: number;
      p: number;
      salt: string;
      check: string;
    }
  | { format: 1; kdf: "raw"; check: string };

/**
 * KeyringTransition is what a keyring holds while a rekey is unfinished
 * (`"rekey": {...}` beside the current fields): the keyring of the new master
 * key, and each KEK sealed under the other, so that either master key can
 * derive both KEKs and open every key, whichever of them it is sealed under.
 */
interface KeyringTransition {
  next: KeyringFile;
  /** The next KEK sealed under the current one (base64). */
  nextKek: string;
  /** The current KEK sealed under the next one (base64). */
  currentKek: string;
}

type StoredKeyring = KeyringFile & { rekey?: KeyringTransition };

/**
 * KeyringState is an unlocked keyring: `kek` seals new material. While a rekey
 * is unfinished, `other` is the second KEK (some material may still be sealed
 * under it) and `settle` is the keyring to write once every key is resealed
 * under `kek`; both are null otherwise. The caller owns (and zeroises) the KEKs.
 */
export interface KeyringState {
  kek: Buffer;
  other: Buffer | null;
  settle: KeyringFile | null;
}

/** KDF_COST is the scrypt cost for new keyrings: 2^15 × 8 × 1, about 32 MiB and 0.1 s. */
export const KDF_COST = { n: 2 ** 15, r: 8, p: 1 } as const;

/** MASTER_KEY_MISMATCH_MESSAGE is the error when the master key cannot open the keyring. */
export const MASTER_KEY_MISMATCH_MESSAGE =
  "the master key does not open the keys in key_dir (they were sealed under another master key): " +
  "give the master key they were made with, or another key_dir";

/** MISSING_KEYRING_MESSAGE is the error when keys exist but the keyring (salt and check value) does not. */
export const MISSING_KEYRING_MESSAGE =
  "key_dir holds keys but no keyring (the salt and check value of its master key): " +
  "restore keyring.bin from a backup of key_dir, or use another key_dir";

const SALT_LENGTH = 16;
const CHECK_PLAINTEXT = Buffer.from("kms-gateway keyring check v1", "latin1");
const CHECK_AAD = Buffer.from("kms-gateway/keyring-check/v1", "latin1");
const RAW_KEY_PATTERN = /^[A-Za-z0-9+/]{43}=$/;

/**
 * rawMasterKey returns the 32 bytes a master key names when it is standard
 * base64 of exactly 32 bytes (44 characters, one `=`), else null. The caller
 * owns (and zeroises) the result.
 */
export function rawMasterKey(masterKey: string): Buffer | null {
  if (!RAW_KEY_PATTERN.test(masterKey)) return null;
  const bytes = Buffer.from(masterKey, "base64");
  // The last character must carry no stray bits, so one key has one spelling.
  if (bytes.length !== 32 || bytes.toString("base64") !== masterKey) {
    bytes.fill(0);
    return null;
  }
  return bytes;
}

/**
 * unlockKeyring derives the 32-byte KEK from `masterKey` and the backend's
 * keyring, creating the keyring on first use (raw for a base64 32-byte key,
 * scrypt for anything else). A master key that does not match the keyring
 * rejects with CONFIG_CONFLICT MASTER_KEY_MISMATCH_MESSAGE (the caller's
 * configuration is at fault, not the backend), so a wrong key fails `start`
 * or `reconfigure` instead of every later request; a backend that holds keys
 * but no keyring rejects with CONFIG_CONFLICT MISSING_KEYRING_MESSAGE rather
 * than get a new keyring its keys could never open under. The caller owns (and
 * zeroises) the KEK.
 */
export async function unlockKeyring(backend: KeyBackend, masterKey: string): Promise<Buffer> {
  const state = await openKeyring(backend, masterKey);
  state.other?.fill(0);
  return state.kek;
}

/**
 * openKeyring is unlockKeyring that also opens a keyring left mid-rekey: the
 * master key may be either the one the rekey started from (the rekey is then
 * rolled back: `settle` is the keyring as it was) or the one it moved to (rolled
 * forward: `settle` is the new keyring). Either way both KEKs come back, so
 * every key opens until the caller has resealed them all and written `settle`.
 */
export async function openKeyring(backend: KeyBackend, masterKey: string): Promise<KeyringState> {
  const stored = await backend.readKeyring();
  if (stored === null) {
    const { ids } = await backend.list(null, 1);
    if (ids.length > 0) throw new KmsError("CONFIG_CONFLICT", MISSING_KEYRING_MESSAGE);
    const { file, kek } = await newKeyring(masterKey);
    try {
      await backend.writeKeyring(encodeKeyring(file));
    } catch (error) {
      kek.fill(0);
      throw error;
    }
    return { kek, other: null, settle: null };
  }
  const file = parseKeyring(stored);
  const { rekey, ...current } = file;
  const kek = await openWith(current, masterKey);
  if (rekey === undefined) {
    if (kek === null) throw new KmsError("CONFIG_CONFLICT", MASTER_KEY_MISMATCH_MESSAGE);
    return { kek, other: null, settle: null };
  }
  if (kek !== null) {
    return { kek, other: unwrapKek(kek, rekey.nextKek), settle: current };
  }
  const nextKek = await openWith(rekey.next, masterKey);
  if (nextKek === null) throw new KmsError("CONFIG_CONFLICT", MASTER_KEY_MISMATCH_MESSAGE);
  return { kek: nextKek, other: unwrapKek(nextKek, rekey.currentKek), settle: rekey.next };
}

/** openWith derives a keyring's KEK from `masterKey` and checks it: the KEK, or null when it does not match. */
async function openWith(file: KeyringFile, masterKey: string): Promise<Buffer | null> {
  const kek = await kekFor(file, masterKey);
  if (kek === null || !verifyCheck(kek, Buffer.from(file.check, "base64"))) {
    kek?.fill(0);
    return null;
  }
  return kek;
}

/**
 * beginRekey derives the KEK of `newMasterKey` under a new keyring and durably
 * records the transition from the backend's settled keyring (opened with
 * `currentKek`) to it, before any material is resealed. It returns the new
 * KEK (the caller owns it), the keyring to settle on when all is resealed, and
 * the current one (to settle back on if the rekey is abandoned).
 * A keyring already mid-rekey rejects with CONFIG_CONFLICT.
 */
export async function beginRekey(
  backend: KeyBackend,
  currentKek: Buffer,
  newMasterKey: string,
): Promise<{ kek: Buffer; next: KeyringFile; current: KeyringFile }> {
  const stored = await backend.readKeyring();
  if (stored === null) throw corruptKeyring();
  const { rekey, ...current } = parseKeyring(stored);
  if (rekey !== undefined) {
    throw new KmsError("CONFIG_CONFLICT", "a rekey is still being finished: try again later");
  }
  const { file: next, kek } = await newKeyring(newMasterKey);
  try {
    const transition: StoredKeyring = {
      ...current,
      rekey: {
        next,
        nextKek: wrapKek(currentKek, kek).toString("base64"),
        currentKek: wrapKek(kek, currentKek).toString("base64"),
      },
    };
    await backend.writeKeyring(encodeKeyring(transition));
  } catch (error) {
    kek.fill(0);
    throw error;
  }
  return { kek, next, current };
}

/** encodeKeyring is the stored form of a keyring (UTF-8 JSON). */
export function encodeKeyring(file: StoredKeyring): Buffer {
  return Buffer.from(JSON.stringify(file), "utf8");
}

const KEK_WRAP_AAD = Buffer.from("kms-gateway/keyring-rekey/v1", "latin1");

function wrapKek(wrappingKek: Buffer, kek: Buffer): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", wrappingKek, iv);
  cipher.setAAD(KEK_WRAP_AAD);
  const body = Buffer.concat([cipher.update(kek), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]);
}

function unwrapKek(wrappingKek: Buffer, wrapped: string): Buffer {
  const bytes = Buffer.from(wrapped, "base64");
  if (bytes.length !== 12 + 32 + 16) throw corruptKeyring();
  try {
    const decipher = createDecipheriv("aes-256-gcm", wrappingKek, bytes.subarray(0, 12));
    decipher.setAAD(KEK_WRAP_AAD);
    decipher.setAuthTag(bytes.subarray(44));
    return Buffer.concat([decipher.update(bytes.subarray(12, 44)), decipher.final()]);
  } catch {
    throw corruptKeyring();
  }
}

/**
 * newKeyring derives a KEK for `masterKey` as a new keyring would (raw for a
 * base64 32-byte key, else scrypt with a fresh salt) and returns the keyring
 * file that re-derives and checks it. The caller owns (and zeroises) the KEK.
 */
export async function newKeyring(masterKey: string): Promise<{ file: KeyringFile; kek: Buffer }> {
  const raw = rawMasterKey(masterKey);
  if (raw !== null) {
    return { file: { format: 1, kdf: "raw", check: makeCheck(raw).toString("base64") }, kek: raw };
  }
  const salt = randomBytes(SALT_LENGTH);
  const kek = await deriveKek(masterKey, salt, KDF_COST);
  return {
    file: {
      format: 1,
      kdf: "scrypt",
      ...KDF_COST,
      salt: salt.toString("base64"),
      check: makeCheck(kek).toString("base64"),
    },
    kek,
  };
}

/** kekFor derives the KEK a keyring says, or null when a raw keyring meets a master key that is not raw. */
async function kekFor(file: KeyringFile, masterKey: string): Promise<Buffer | null> {
  if (file.kdf === "raw") return rawMasterKey(masterKey);
  return deriveKek(masterKey, Buffer.from(file.salt, "base64"), file);
}

function parseKeyring(bytes: Uint8Array): StoredKeyring {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    throw corruptKeyring();
  }
  const file = parseKeyringFields(value);
  const rekey = (value as { rekey?: unknown }).rekey;
  if (rekey === undefined) return file;
  const transition = rekey as Partial<Record<keyof KeyringTransition, unknown>> | null;
  if (
    typeof transition !== "object" ||
    transition === null ||
    typeof transition.nextKek !== "string" ||
    typeof transition.currentKek !== "string"
  ) {
    throw corruptKeyring();
  }
  return {
    ...file,
    rekey: {
      next: parseKeyringFields(transition.next),
      nextKek: transition.nextKek,
      currentKek: transition.currentKek,
    },
  };
}

/** parseKeyringFields checks one keyring's fields and returns exactly those (nothing extra). */
function parseKeyringFields(value: unknown): KeyringFile {
  const file = value as Record<string, unknown> | null;
  if (
    typeof file !== "object" ||
    file === null ||
    file.format !== 1 ||
    typeof file.check !== "string"
  ) {
    throw corruptKeyring();
  }
  if (file.kdf === "raw") return { format: 1, kdf: "raw", check: file.check };
  // Bounded parameters: a damaged keyring must not make scrypt eat the machine.
  if (
    file.kdf !== "scrypt" ||
    !isPowerOfTwoIn(file.n, 2 ** 14, 2 ** 20) ||
    !isIntegerIn(file.r, 1, 32) ||
    !isIntegerIn(file.p, 1, 16) ||
    typeof file.salt !== "string" ||
    Buffer.from(file.salt, "base64").length < SALT_LENGTH
  ) {
    throw corruptKeyring();
  }
  return {
    format: 1,
    kdf: "scrypt",
    n: file.n,
    r: file.r,
    p: file.p,
    salt: file.salt,
    check: file.check,
  };
}

function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;
}

function isPowerOfTwoIn(value: unknown, min: number, max: number): value is number {
  return isIntegerIn(value, min, max) && (value & (value - 1)) === 0;
}

function corruptKeyring(): KmsError {
  return new KmsError("BACKEND_ERROR", "the keyring in the backend is corrupt");
}

function deriveKek(
  masterKey: string,
  salt: Uint8Array,
  cost: { n: number; r: number; p: number },
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // scrypt needs 128·N·r bytes; Node's default maxmem (32 MiB) is just too small for N=2^15, r=8.
    const maxmem = 128 * cost.n * cost.r + 16 * 1024 * 1024;
    scrypt(masterKey, salt, 32, { N: cost.n, r: cost.r, p: cost.p, maxmem }, (error, key) => {
      if (error) reject(new KmsError("BACKEND_ERROR", "key derivation failed", { cause: error }));
      else resolve(key);
    });
  });
}

function makeCheck(kek: Buffer): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", kek, iv);
  cipher.setAAD(CHECK_AAD);
  const ciphertext = Buffer.concat([cipher.update(CHECK_PLAINTEXT), cipher.final()]);
  return Buffer.concat([iv, ciphertext, cipher.getAuthTag()]);
}

function verifyCheck(kek: Buffer, check: Buffer): boolean {
  if (check.length !== 12 + CHECK_PLAINTEXT.length + 16) return false;
  try {
    const decipher = createDecipheriv("aes-256-gcm", kek, check.subarray(0, 12));
    decipher.setAAD(CHECK_AAD);
    decipher.setAuthTag(check.subarray(check.length - 16));
    const plain = Buffer.concat([
      decipher.update(check.subarray(12, check.length - 16)),
      decipher.final(),
    ]);
    return plain.equals(CHECK_PLAINTEXT);
  } catch {
    return false;
  }
}
