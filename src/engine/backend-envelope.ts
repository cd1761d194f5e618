import {
  invalidCiphertext,
  MAX_ENVELOPE_PLAINTEXT,
  type ParsedEnvelope,
  parseEnvelope,
} from "./envelope.js";
import { KmsError } from "./errors.js";
import { isValidKeyId } from "./key-id.js";

/**
 * The backend-custody envelope (format byte 0x03), for keys whose material a
 * backend holds (Vault Transit). It shares the outer layout of envelope.ts —
 * magic "KGWE", format byte, key id, key version — and carries, instead of
 * salt, IV, ciphertext and tag, the backend's own ciphertext (for Transit the
 * ASCII `vault:vN:…` string). docs/envelope.md describes it beside v1:
 *
 *     offset     size  field
 *     0          4     magic "KGWE"
 *     4          1     format version, 0x03
 *     5          1     key id length n, 1–128
 *     6          n     key id, ASCII [A-Za-z0-9._-]
 *     6+n        4     key version (u32, ≥ 1): the backend's version of the key
 *     10+n       4     backend ciphertext length m (u32, 1–MAX_BACKEND_CIPHERTEXT)
 *     14+n       m     backend ciphertext
 *
 * The envelope has no tag of its own: the backend authenticates its ciphertext
 * and the additional data backendAad builds (key id and encryption context),
 * so changing the key id or context fails in the backend (the version field
 * only says which version the backend reported; the backend reads its own
 * from its ciphertext). Every failure is the same opaque INVALID_CIPHERTEXT.
 */
const MAGIC = Buffer.from("KGWE", "latin1");
/** ENVELOPE_FORMAT_BACKEND is the format byte of the backend-custody envelope. */
export const ENVELOPE_FORMAT_BACKEND = 3;
const FIXED_HEADER = 6;
const AFTER_ID = 8;
/** MAX_BACKEND_CIPHERTEXT bounds the backend ciphertext one envelope carries (the largest plaintext, base64, plus room). */
export const MAX_BACKEND_CIPHERTEXT = Math.ceil((MAX_ENVELOPE_PLAINTEXT + 64) / 3) * 4 + 64;
const AAD_LABEL = Buffer.from("kms-gateway/backend-envelope/v1\0", "latin1");

/** BackendEnvelope is a parsed backend-custody envelope; nothing in it is authenticated yet. */
export interface BackendEnvelope {
  format: typeof ENVELOPE_FORMAT_BACKEND;
  keyId: string;
  keyVersion: number;
  /** The backend's ciphertext. */
  ciphertext: Buffer;
}

/** AnyEnvelope is what parseAnyEnvelope returns: an engine envelope (v1 or legacy) or a backend one. */
export type AnyEnvelope = ParsedEnvelope | BackendEnvelope;

/** isBackendEnvelope tells a backend-custody envelope from an engine one. */
export function isBackendEnvelope(envelope: AnyEnvelope): envelope is BackendEnvelope {
  return envelope.format === ENVELOPE_FORMAT_BACKEND;
}

/** sealBackendEnvelope writes the envelope of a backend ciphertext made under `keyVersion` of `keyId`. */
export function sealBackendEnvelope(
  keyId: string,
  keyVersion: number,
  ciphertext: Uint8Array,
): Buffer {
  if (
    !isValidKeyId(keyId) ||
    !Number.isInteger(keyVersion) ||
    keyVersion < 1 ||
    keyVersion > 0xffff_ffff ||
    ciphertext.length < 1 ||
    ciphertext.length > MAX_BACKEND_CIPHERTEXT
  ) {
    throw new KmsError(
      "BACKEND_ERROR",
      "the backend returned a ciphertext that cannot be enveloped",
    );
  }
  const n = keyId.length;
  const out = Buffer.allocUnsafe(FIXED_HEADER + n + AFTER_ID + ciphertext.length);
  MAGIC.copy(out, 0);
  out[4] = ENVELOPE_FORMAT_BACKEND;
  out[5] = n;
  out.write(keyId, FIXED_HEADER, n, "latin1");
  out.writeUInt32BE(keyVersion, FIXED_HEADER + n);
  out.writeUInt32BE(ciphertext.length, FIXED_HEADER + n + 4);
  out.set(ciphertext, FIXED_HEADER + n + AFTER_ID);
  return out;
}

/**
 * parseAnyEnvelope splits a blob of any format the engine reads (v1, legacy,
 * backend) into its fields, or rejects with the opaque INVALID_CIPHERTEXT.
 */
export function parseAnyEnvelope(blob: Uint8Array): AnyEnvelope {
  const bytes = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  if (bytes.length < FIXED_HEADER || bytes[4] !== ENVELOPE_FORMAT_BACKEND) {
    return parseEnvelope(blob);
  }
  if (!bytes.subarray(0, 4).equals(MAGIC)) throw invalidCiphertext();
  const n = bytes[5] as number;
  const start = FIXED_HEADER + n + AFTER_ID;
  if (n < 1 || bytes.length < start) throw invalidCiphertext();
  const keyId = bytes.toString("latin1", FIXED_HEADER, FIXED_HEADER + n);
  if (!isValidKeyId(keyId)) throw invalidCiphertext();
  const keyVersion = bytes.readUInt32BE(FIXED_HEADER + n);
  const length = bytes.readUInt32BE(FIXED_HEADER + n + 4);
  if (keyVersion < 1 || length < 1 || length > MAX_BACKEND_CIPHERTEXT) throw invalidCiphertext();
  if (bytes.length !== start + length) throw invalidCiphertext();
  return {
    format: ENVELOPE_FORMAT_BACKEND,
    keyId,
    keyVersion,
    ciphertext: bytes.subarray(start),
  };
}

/**
 * backendAad is the additional data a backend binds to a wrap: a label, the
 * key id and the encoded encryption context. It is never empty, so a backend
 * that treats empty additional data as "none" still binds the key id.
 */
export function backendAad(keyId: string, context: Uint8Array): Buffer {
  const id = Buffer.from(keyId, "latin1");
  return Buffer.concat([AAD_LABEL, Buffer.of(id.length), id, context]);
}
