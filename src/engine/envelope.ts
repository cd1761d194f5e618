import { createCipheriv, createDecipheriv } from "node:crypto";
import { hmacSha256Latin1 } from "../hashing/hmac-sha256.js";
import { KmsError } from "./errors.js";
import { isValidKeyId } from "./key-id.js";
import { fillRandom } from "./random-pool.js";

/**
 * The ciphertext envelope. docs/envelope.md is the full specification, with
 * known-answer vectors in test/fixtures/envelope-vectors.json. All integers are
 * big-endian. Two layouts share the magic and differ in the version byte:
 *
 * Format byte 0x02 ("envelope v1" in the docs, the only one written):
 *
 *     offset     size  field
 *     0          4     magic "KGWE" (0x4b 0x47 0x57 0x45)
 *     4          1     format version, 0x02
 *     5          1     key id length n, 1–128
 *     6          n     key id, ASCII [A-Za-z0-9._-]
 *     6+n        4     key version (u32, ≥ 1)
 *     10+n       4     ciphertext length m (u32, ≤ MAX_ENVELOPE_PLAINTEXT)
 *     14+n       32    salt (random, fresh per wrap)
 *     46+n       12    AES-GCM IV (random)
 *     58+n       m     AES-256-GCM ciphertext
 *     58+n+m     16    AES-GCM tag
 *
 * The wrapping key is HKDF-SHA256(IKM = the key version's material, salt,
 * info = ENVELOPE_HKDF_INFO, 32 bytes): a key per wrap, so the 2^32-messages
 * bound of random 96-bit IVs under one key no longer limits a key version.
 *
 * Format byte 0x01 (the "legacy" envelope, read only): the same fields without
 * the salt (IV at 14+n), encrypted directly under the key version's material.
 *
 * The header is every byte before the IV ([0, 46+n) or [0, 14+n)). The AAD is
 * the header followed by the canonical encoding of the encryption context (see
 * encodeEncryptionContext), so neither the key id, the version, the length, the
 * salt nor the context can be changed without the tag failing. The blob never
 * holds the plaintext.
 *
 * Parsing is strict: every length is checked and the total must match exactly.
 * Every failure, whether parsing or authentication, is the same INVALID_CIPHERTEXT
 * error with one opaque message, so error text tells an attacker nothing.
 */
const MAGIC = Buffer.from("KGWE", "latin1");
/** The format byte of envelope v1, the one sealEnvelope writes. */
const FORMAT_V1 = 2;
/** The format byte of the legacy envelope, still opened. */
const FORMAT_LEGACY = 1;
const SALT_LENGTH = 32;
const IV_LENGTH = 12;
const TAG_LENGTH = 16;
const MAX_KEY_ID_LENGTH = 128;
/** Bytes of the header before the key id, and after it up to the salt (version, length). */
const FIXED_HEADER = 6;
const AFTER_ID = 8;

/** ENVELOPE_FORMAT_V1 is the format byte of the envelope sealEnvelope writes (0x02, "envelope v1"). */
export const ENVELOPE_FORMAT_V1 = FORMAT_V1;
/** ENVELOPE_FORMAT_LEGACY is the format byte of the envelope written before v1 (0x01); it is only read. */
export const ENVELOPE_FORMAT_LEGACY = FORMAT_LEGACY;

/** ENVELOPE_HKDF_INFO is the HKDF-SHA256 info string of the v1 wrapping key. */
export const ENVELOPE_HKDF_INFO = "kms-gateway/envelope/v1/aes-256-gcm";
// HKDF-Expand's one block for a 32-byte output: info followed by the counter 0x01.
const EXPAND_INPUT = Buffer.concat([Buffer.from(ENVELOPE_HKDF_INFO, "latin1"), Buffer.of(1)]);

/** MAX_ENVELOPE_PLAINTEXT bounds what one envelope can carry (64 KiB). */
export const MAX_ENVELOPE_PLAINTEXT = 65536;

/** INVALID_CIPHERTEXT_MESSAGE is the one message of every envelope failure. */
export const INVALID_CIPHERTEXT_MESSAGE =
  "ciphertext is invalid or was made with another encryption context";

/** invalidCiphertext returns the one opaque INVALID_CIPHERTEXT error. */
export function invalidCiphertext(): KmsError {
  return new KmsError("INVALID_CIPHERTEXT", INVALID_CIPHERTEXT_MESSAGE);
}

/** ParsedEnvelope is an envelope split into its fields; nothing in it is authenticated yet. */
export interface ParsedEnvelope {
  /** The format byte: ENVELOPE_FORMAT_V1, or ENVELOPE_FORMAT_LEGACY. */
  format: number;
  keyId: string;
  keyVersion: number;
  header: Buffer;
  /** The HKDF salt of a v1 envelope; null for a legacy one. */
  salt: Buffer | null;
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

/** EnvelopeRandomness is the salt (32 bytes) and IV (12 bytes) of one wrap. */
export interface EnvelopeRandomness {
  salt: Uint8Array;
  iv: Uint8Array;
}

/**
 * sealEnvelope encrypts `plaintext` under a key derived from `keyMaterial`
 * (32 bytes, version `keyVersion` of key `keyId`) and a fresh salt, with
 * `context` (an encoded encryption context) bound as AAD, and returns a v1
 * envelope.
 */
export function sealEnvelope(
  keyMaterial: Uint8Array,
  keyId: string,
  keyVersion: number,
  plaintext: Uint8Array,
  context: Uint8Array,
): Buffer {
  return seal(keyMaterial, keyId, keyVersion, plaintext, context, null);
}

/**
 * sealEnvelopeWith is sealEnvelope with the salt and IV given instead of drawn
 * from the CSPRNG. It exists for known-answer tests only: a repeated salt and
 * IV under one key version breaks AES-GCM, so nothing else may call it.
 */
export function sealEnvelopeWith(
  keyMaterial: Uint8Array,
  keyId: string,
  keyVersion: number,
  plaintext: Uint8Array,
  context: Uint8Array,
  randomness: EnvelopeRandomness,
): Buffer {
  if (randomness.salt.length !== SALT_LENGTH || randomness.iv.length !== IV_LENGTH) {
    throw new KmsError("INVALID_ARGUMENT", "an envelope needs a 32-byte salt and a 12-byte IV");
  }
  return seal(keyMaterial, keyId, keyVersion, plaintext, context, randomness);
}

function seal(
  keyMaterial: Uint8Array,
  keyId: string,
  keyVersion: number,
  plaintext: Uint8Array,
  context: Uint8Array,
  randomness: EnvelopeRandomness | null,
): Buffer {
  if (
    !isValidKeyId(keyId) ||
    !Number.isInteger(keyVersion) ||
    keyVersion < 1 ||
    keyVersion > 0xffff_ffff
  ) {
    throw new KmsError("INVALID_ARGUMENT", "invalid key id or version for an envelope");
  }
  if (plaintext.length > MAX_ENVELOPE_PLAINTEXT) {
    throw new KmsError(
      "INVALID_ARGUMENT",
      `plaintext must be at most ${MAX_ENVELOPE_PLAINTEXT} bytes`,
    );
  }
  // The envelope is written into one buffer: header, salt, IV, ciphertext and
  // tag in place, with no intermediate concatenation.
  const idLength = keyId.length;
  const saltStart = FIXED_HEADER + idLength + AFTER_ID;
  const ivStart = saltStart + SALT_LENGTH;
  const ivEnd = ivStart + IV_LENGTH;
  const ciphertextEnd = ivEnd + plaintext.length;
  const envelope = Buffer.allocUnsafe(ciphertextEnd + TAG_LENGTH);
  MAGIC.copy(envelope, 0);
  envelope[4] = FORMAT_V1;
  envelope[5] = idLength;
  envelope.write(keyId, FIXED_HEADER, idLength, "latin1");
  envelope.writeUInt32BE(keyVersion, FIXED_HEADER + idLength);
  envelope.writeUInt32BE(plaintext.length, FIXED_HEADER + idLength + 4);
  if (randomness === null) {
    // The salt and IV are contiguous in the layout: one draw fills both.
    fillRandom(envelope, saltStart, SALT_LENGTH + IV_LENGTH);
  } else {
    envelope.set(randomness.salt, saltStart);
    envelope.set(randomness.iv, ivStart);
  }
  const salt = envelope.subarray(saltStart, ivStart);
  const wrappingKey = deriveWrappingKey(keyMaterial, salt);
  try {
    // GCM's tag is 16 bytes (TAG_LENGTH) unless told otherwise: no options object to
    // build and validate per wrap. (Opening does name it, to refuse a shortened tag.)
    const cipher = createCipheriv("aes-256-gcm", wrappingKey, envelope.subarray(ivStart, ivEnd));
    // Two AAD calls feed GCM the same bytes as one call on the concatenation,
    // without allocating it.
    cipher.setAAD(envelope.subarray(0, ivStart));
    if (context.length > 0) cipher.setAAD(context);
    const written = ivEnd + cipher.update(plaintext).copy(envelope, ivEnd);
    // GCM is a stream mode: update() returns every byte and final() none, but a
    // final() that did return some would still land in place, not be lost.
    if (written + cipher.final().copy(envelope, written) !== ciphertextEnd) {
      throw new Error("AES-GCM returned an unexpected ciphertext length");
    }
    cipher.getAuthTag().copy(envelope, ciphertextEnd);
  } finally {
    wrappingKey.fill(0);
  }
  return envelope;
}

/** prkScratch holds HKDF's pseudorandom key between its two steps; wiped after each derivation. */
const prkScratch = Buffer.alloc(32);
/** wrappingKeyScratch carries the derived wrapping key into createCipheriv (which copies it), then is wiped. */
const wrappingKeyScratch = Buffer.alloc(32);

/**
 * deriveWrappingKey is HKDF-SHA256 (RFC 5869) with a 32-byte output, written as
 * its two HMACs: node:crypto's hkdfSync goes through a job object and costs
 * several times more per call, and this runs on every wrap and unwrap. It
 * returns wrappingKeyScratch holding the key: the caller hands it to
 * createCipheriv or createDecipheriv (which copy it) and then wipes it. The
 * HMACs' digests pass as latin1 strings (see src/hashing/hmac-sha256.ts): they
 * are per-envelope intermediates (PRK, T(1)), each protecting only its one
 * envelope, whose plaintext the caller receives anyway; the key version's
 * material only passes through the helper's scratch buffer, which is wiped.
 * The known-answer test checks it against hkdfSync.
 */
function deriveWrappingKey(material: Uint8Array, salt: Uint8Array): Buffer {
  prkScratch.write(hmacSha256Latin1(salt, material), 0, "latin1");
  try {
    wrappingKeyScratch.write(hmacSha256Latin1(prkScratch, EXPAND_INPUT), 0, "latin1");
    return wrappingKeyScratch;
  } finally {
    prkScratch.fill(0);
  }
}

/** parseEnvelope splits a v1 or legacy blob into its fields, or rejects with the opaque INVALID_CIPHERTEXT. */
export function parseEnvelope(blob: Uint8Array): ParsedEnvelope {
  const bytes = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  if (bytes.length < FIXED_HEADER || !bytes.subarray(0, 4).equals(MAGIC)) {
    throw invalidCiphertext();
  }
  const format = bytes[4] as number;
  if (format !== FORMAT_V1 && format !== FORMAT_LEGACY) throw invalidCiphertext();
  const saltLength = format === FORMAT_V1 ? SALT_LENGTH : 0;
  const idLength = bytes[5] as number;
  if (idLength < 1 || idLength > MAX_KEY_ID_LENGTH) throw invalidCiphertext();
  const saltStart = FIXED_HEADER + idLength + AFTER_ID;
  const ivStart = saltStart + saltLength;
  const ivEnd = ivStart + IV_LENGTH;
  if (bytes.length < ivEnd + TAG_LENGTH) throw invalidCiphertext();
  const keyId = bytes.toString("latin1", FIXED_HEADER, FIXED_HEADER + idLength);
  if (!isValidKeyId(keyId)) throw invalidCiphertext();
  const keyVersion = bytes.readUInt32BE(FIXED_HEADER + idLength);
  const ciphertextLength = bytes.readUInt32BE(FIXED_HEADER + idLength + 4);
  if (keyVersion < 1 || ciphertextLength > MAX_ENVELOPE_PLAINTEXT) throw invalidCiphertext();
  if (bytes.length !== ivEnd + ciphertextLength + TAG_LENGTH) throw invalidCiphertext();
  const ciphertextEnd = ivEnd + ciphertextLength;
  return {
    format,
    keyId,
    keyVersion,
    header: bytes.subarray(0, ivStart),
    salt: saltLength === 0 ? null : bytes.subarray(saltStart, ivStart),
    iv: bytes.subarray(ivStart, ivEnd),
    ciphertext: bytes.subarray(ivEnd, ciphertextEnd),
    tag: bytes.subarray(ciphertextEnd),
  };
}

/**
 * openEnvelope authenticates and decrypts a parsed envelope under `keyMaterial`
 * with `context` (an encoded encryption context), or rejects with the opaque
 * INVALID_CIPHERTEXT. The caller owns (and zeroises) the returned plaintext.
 */
export function openEnvelope(
  keyMaterial: Uint8Array,
  envelope: ParsedEnvelope,
  context: Uint8Array,
): Buffer {
  const key = envelope.salt === null ? null : deriveWrappingKey(keyMaterial, envelope.salt);
  let plaintext: Buffer | null = null;
  try {
    const decipher = createDecipheriv("aes-256-gcm", key ?? keyMaterial, envelope.iv, {
      authTagLength: TAG_LENGTH,
    });
    decipher.setAAD(envelope.header);
    if (context.length > 0) decipher.setAAD(context);
    decipher.setAuthTag(envelope.tag);
    // GCM hands out plaintext before the tag is checked; wipe it if the check fails.
    plaintext = decipher.update(envelope.ciphertext);
    decipher.final();
    return plaintext;
  } catch {
    plaintext?.fill(0);
    throw invalidCiphertext();
  } finally {
    key?.fill(0);
  }
}
