import { KmsError } from "./errors.js";

/** MAX_CONTEXT_ENTRIES bounds the number of entries in an encryption context. */
export const MAX_CONTEXT_ENTRIES = 64;
/** MAX_CONTEXT_BYTES bounds the UTF-8 size of all keys and values of an encryption context. */
export const MAX_CONTEXT_BYTES = 8192;

/**
 * encodeEncryptionContext validates an encryption context and returns its
 * canonical encoding, the bytes bound to a ciphertext as AAD:
 *
 *     u32 entry count, then per entry, sorted by key in UTF-8 byte order:
 *     u32 key length, key (UTF-8), u32 value length, value (UTF-8)
 *
 * (u32 = 4-byte big-endian). Length prefixes make it unambiguous, sorting
 * makes map order irrelevant. Absent and empty contexts encode the same.
 * Strings that are not well-formed UTF-16 (lone surrogates) are refused, since
 * two different such strings would encode to the same bytes.
 * Invalid or oversized contexts reject with INVALID_ARGUMENT.
 */
export function encodeEncryptionContext(context: unknown): Buffer {
  if (context == null) return Buffer.alloc(4);
  if (typeof context !== "object" || Array.isArray(context)) {
    throw invalid("encryption_context must be a string map");
  }
  const entries = Object.entries(context);
  if (entries.length > MAX_CONTEXT_ENTRIES) {
    throw invalid(`encryption_context must have at most ${MAX_CONTEXT_ENTRIES} entries`);
  }
  let total = 0;
  const encoded: [Buffer, Buffer][] = [];
  for (const [key, value] of entries) {
    if (typeof value !== "string") throw invalid("encryption_context values must be strings");
    const keyBytes = utf8(key);
    const valueBytes = utf8(value);
    total += keyBytes.length + valueBytes.length;
    if (total > MAX_CONTEXT_BYTES) {
      throw invalid(`encryption_context must be at most ${MAX_CONTEXT_BYTES} bytes`);
    }
    encoded.push([keyBytes, valueBytes]);
  }
  encoded.sort((a, b) => Buffer.compare(a[0], b[0]));
  const out = Buffer.alloc(4 + total + 8 * encoded.length);
  let offset = out.writeUInt32BE(encoded.length, 0);
  for (const [key, value] of encoded) {
    offset = out.writeUInt32BE(key.length, offset);
    offset += key.copy(out, offset);
    offset = out.writeUInt32BE(value.length, offset);
    offset += value.copy(out, offset);
  }
  return out;
}

function utf8(value: string): Buffer {
  const bytes = Buffer.from(value, "utf8");
  if (bytes.toString("utf8") !== value) {
    throw invalid("encryption_context must contain well-formed Unicode strings");
  }
  return bytes;
}

function invalid(message: string): KmsError {
  return new KmsError("INVALID_ARGUMENT", message);
}
