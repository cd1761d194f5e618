import { createCipheriv, createDecipheriv, randomFillSync } from "node:crypto";
import { KmsError } from "./errors.js";
import { isValidKeyId } from "./key-id.js";

/**
 * The ciphertext envelope (format version 1). All integers are big-endian.
 *
 *     offset     size  field
 *     0          4     magic "KGWE" (0x4b 0x47 0x57 0x45)
 *     4          1     format version, 0x01
 *     5          1     key id length n, 1–128
 *     6          n     key id, ASCII [A-Za-z0-9._-]
 *     6+n        4     key version (u32, ≥ 1)
 *     10+n       4     ciphertext length m (u32, ≤ MAX_ENVELOPE_PLAINTEXT)
 *     14+n       12    AES-GCM IV (random)
 *     26+n       m     AES-256-GCM ciphertext
 *     26+n+m     16    AES-GCM tag
 *
 * The header is bytes [0, 14+n). The AAD is the header followed by the
 * canonical encoding of the encryption context (see encodeEncryptionContext),
 * so neither the key id, the version, the length nor the context can be changed
 * without the tag failing. The blob never holds the plaintext.
 *
 * Parsing is strict: every length is checked and the total must match exactly.
 * Every failure, whether parsing or authentication, is the same INVALID_CIPHERTEXT
 * error with one opaque message, so error text tells an attacker nothing.
 */
const MAGIC = Buffer.from("KGWE", "latin1");
const FORMAT_VERSION = 1;
const IV_LENGTH = 12;
const TAG_LENGTH = 16;
const MAX_KEY_ID_LENGTH = 128;

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
  keyId: string;
  keyVersion: number;
  header: Buffer;
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

/**
 * sealEnvelope encrypts `plaintext` under `keyMaterial` (32 bytes, version
 * `keyVersion` of key `keyId`) with `context` (an encoded encryption context)
 * bound as AAD, and returns the envelope.
 */
export function sealEnvelope(
  keyMaterial: Uint8Array,
  keyId: string,
  keyVersion: number,
  plaintext: Uint8Array,
  context: Uint8Array,
): Buffer {
  if (!isValidKeyId(keyId) || !Number.isInteger(keyVersion) || keyVersion < 1) {
    throw new KmsError("INVALID_ARGUMENT", "invalid key id or version for an envelope");
  }
  if (plaintext.length > MAX_ENVELOPE_PLAINTEXT) {
    throw new KmsError(
      "INVALID_ARGUMENT",
      `plaintext must be at most ${MAX_ENVELOPE_PLAINTEXT} bytes`,
    );
  }
  // The envelope is written into one buffer: header, IV, ciphertext and tag in
  // place, with no intermediate concatenation (same bytes as the layout above).
  const idLength = keyId.length;
  const headerLength = 14 + idLength;
  const ivEnd = headerLength + IV_LENGTH;
  const ciphertextEnd = ivEnd + plaintext.length;
  const envelope = Buffer.allocUnsafe(ciphertextEnd + TAG_LENGTH);
  MAGIC.copy(envelope, 0);
  envelope[4] = FORMAT_VERSION;
  envelope[5] = idLength;
  envelope.write(keyId, 6, idLength, "latin1");
  envelope.writeUInt32BE(keyVersion, 6 + idLength);
  envelope.writeUInt32BE(plaintext.length, 10 + idLength);
  const iv = envelope.subarray(headerLength, ivEnd);
  fillIv(iv);
  const cipher = createCipheriv("aes-256-gcm", keyMaterial, iv, { authTagLength: TAG_LENGTH });
  const header = envelope.subarray(0, headerLength);
  cipher.setAAD(context.length === 0 ? header : Buffer.concat([header, context]));
  const written = ivEnd + cipher.update(plaintext).copy(envelope, ivEnd);
  // GCM is a stream mode: update() returns every byte and final() none, but a
  // final() that did return some would still land in place, not be lost.
  if (written + cipher.final().copy(envelope, written) !== ciphertextEnd) {
    throw new Error("AES-GCM returned an unexpected ciphertext length");
  }
  cipher.getAuthTag().copy(envelope, ciphertextEnd);
  return envelope;
}

/**
 * IV_POOL_SIZE is how many IVs one call to the CSPRNG fills at once (256). The
 * pool holds only IVs, which are public once written, never key material.
 */
const IV_POOL_SIZE = 256;
const ivPool = Buffer.alloc(IV_LENGTH * IV_POOL_SIZE);
let ivPoolOffset = ivPool.length;

/**
 * fillIv writes a fresh random IV into `target` from a pool filled by
 * randomFillSync, so a seal does not pay one CSPRNG call (and one allocation)
 * for 12 bytes. Each pooled IV is handed out once and then wiped.
 */
function fillIv(target: Buffer): void {
  if (ivPoolOffset === ivPool.length) {
    randomFillSync(ivPool);
    ivPoolOffset = 0;
  }
  const end = ivPoolOffset + IV_LENGTH;
  ivPool.copy(target, 0, ivPoolOffset, end);
  ivPool.fill(0, ivPoolOffset, end);
  ivPoolOffset = end;
}

/** parseEnvelope splits a blob into its fields, or rejects with the opaque INVALID_CIPHERTEXT. */
export function parseEnvelope(blob: Uint8Array): ParsedEnvelope {
  const bytes = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  if (bytes.length < 6 + 1 + 8 + IV_LENGTH + TAG_LENGTH) throw invalidCiphertext();
  if (!bytes.subarray(0, 4).equals(MAGIC) || bytes[4] !== FORMAT_VERSION) {
    throw invalidCiphertext();
  }
  const idLength = bytes[5] as number;
  if (idLength < 1 || idLength > MAX_KEY_ID_LENGTH) throw invalidCiphertext();
  const headerLength = 14 + idLength;
  if (bytes.length < headerLength + IV_LENGTH + TAG_LENGTH) throw invalidCiphertext();
  const keyId = bytes.toString("latin1", 6, 6 + idLength);
  if (!isValidKeyId(keyId)) throw invalidCiphertext();
  const keyVersion = bytes.readUInt32BE(6 + idLength);
  const ciphertextLength = bytes.readUInt32BE(10 + idLength);
  if (keyVersion < 1 || ciphertextLength > MAX_ENVELOPE_PLAINTEXT) throw invalidCiphertext();
  if (bytes.length !== headerLength + IV_LENGTH + ciphertextLength + TAG_LENGTH) {
    throw invalidCiphertext();
  }
  const ivEnd = headerLength + IV_LENGTH;
  const ciphertextEnd = ivEnd + ciphertextLength;
  return {
    keyId,
    keyVersion,
    header: bytes.subarray(0, headerLength),
    iv: bytes.subarray(headerLength, ivEnd),
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
  const decipher = createDecipheriv("aes-256-gcm", keyMaterial, envelope.iv, {
    authTagLength: TAG_LENGTH,
  });
  decipher.setAAD(Buffer.concat([envelope.header, context]));
  decipher.setAuthTag(envelope.tag);
  // GCM hands out plaintext before the tag is checked; wipe it if the check fails.
  const plaintext = decipher.update(envelope.ciphertext);
  try {
    decipher.final();
  } catch {
    plaintext.fill(0);
    throw invalidCiphertext();
  }
  return plaintext;
}
