import { createHash, createHmac, hash } from "node:crypto";

/**
 * HMAC-SHA256 (RFC 2104) written as its two one-shot SHA-256 hashes, shared by
 * the engine (HKDF for every envelope) and SigV4 verification (the final
 * signature of every request). node:crypto's createHmac builds a key object and
 * a Hash per call, and a one-shot hash() returning a Buffer costs two to four
 * times one returning a string: about 3 µs per HMAC against under 1 µs here.
 * Digests come back as latin1 ("binary") strings, one character per byte.
 *
 * Imports node:crypto only, so both src/engine and src/auth may import it
 * (.ci/check-imports).
 */

/** HMAC-SHA256's block size: the key is padded (or hashed down) to it. */
const BLOCK = 64;
/** The longest message that goes through the scratch buffer; longer ones take createHash. */
const MAX_MESSAGE = 512;
const IPAD = 0x36;
const OPAD = 0x5c;

/**
 * scratch holds one hash input: a padded key block and the message. Key pads
 * (and, in the engine, key material as a message) pass through it, so every
 * byte written is wiped before the call returns. Callers are synchronous, so one
 * buffer serves every call.
 */
const scratch = Buffer.alloc(BLOCK + MAX_MESSAGE);
/**
 * views are views of scratch's first n bytes, by n, made once (at most
 * BLOCK + MAX_MESSAGE + 1 of them): hash() takes a whole view, and a subarray
 * per hash was a typed-array allocation per call.
 */
const views: Buffer[] = [];

/** view returns the view of scratch's first `length` bytes. */
function view(length: number): Buffer {
  let v = views[length];
  if (v === undefined) {
    v = scratch.subarray(0, length);
    views[length] = v;
  }
  return v;
}

/**
 * hmacSha256Latin1 is HMAC-SHA256 of `message` under `key`, for a key used once
 * (HKDF's salt and pseudorandom key): the pads are XORed into the scratch block
 * in place, with no allocation. The digest is returned as a latin1 string.
 */
export function hmacSha256Latin1(key: Uint8Array, message: Uint8Array): string {
  if (key.length > BLOCK || message.length > MAX_MESSAGE) {
    return createHmac("sha256", key).update(message).digest("binary");
  }
  try {
    // The key's zero padding XORs to the pad byte itself.
    scratch.fill(IPAD, key.length, BLOCK);
    for (let i = 0; i < key.length; i++) scratch[i] = (key[i] as number) ^ IPAD;
    scratch.set(message, BLOCK);
    const inner = hash("sha256", view(BLOCK + message.length), "binary");
    scratch.fill(OPAD, key.length, BLOCK);
    for (let i = 0; i < key.length; i++) scratch[i] = (key[i] as number) ^ OPAD;
    scratch.write(inner, BLOCK, "latin1");
    return hash("sha256", view(BLOCK + 32), "binary");
  } finally {
    scratch.fill(0, 0, BLOCK + Math.max(32, message.length));
  }
}

/** HmacSha256 is HMAC-SHA256 under one key, its pads computed once. */
export interface HmacSha256 {
  /**
   * digestLatin1 returns HMAC-SHA256(key, message) as a latin1 string. The
   * message is read as latin1, one byte per character, which is exact for the
   * ASCII strings it is meant for; a character above U+00FF would be truncated
   * to its low byte, so callers pass ASCII only.
   */
  digestLatin1(message: string): string;
}

/**
 * createHmacSha256 returns HMAC-SHA256 under `key` with the key's inner and
 * outer pad blocks computed once, for a key that signs many messages (a cached
 * SigV4 signing key): each digest then costs two block copies, one latin1 write
 * and the two hashes. The pads are as secret as the key and live as long as the
 * returned object, like the key they come from.
 */
export function createHmacSha256(key: Uint8Array): HmacSha256 {
  const block = key.length > BLOCK ? hash("sha256", key, "buffer") : key;
  const innerPad = Buffer.alloc(BLOCK, IPAD);
  const outerPad = Buffer.alloc(BLOCK, OPAD);
  for (let i = 0; i < block.length; i++) {
    innerPad[i] = (block[i] as number) ^ IPAD;
    outerPad[i] = (block[i] as number) ^ OPAD;
  }
  // A long key's digest stands in for the key: wipe it once the pads hold it.
  if (block !== key) block.fill(0);
  return {
    digestLatin1(message) {
      if (message.length > MAX_MESSAGE) {
        const inner = createHash("sha256").update(innerPad).update(message, "latin1").digest();
        return createHash("sha256").update(outerPad).update(inner).digest("binary");
      }
      try {
        scratch.set(innerPad, 0);
        const length = scratch.write(message, BLOCK, "latin1");
        const inner = hash("sha256", view(BLOCK + length), "binary");
        scratch.set(outerPad, 0);
        scratch.write(inner, BLOCK, "latin1");
        return hash("sha256", view(BLOCK + 32), "binary");
      } finally {
        // The pad block is secret and the inner digest is half of one; the message is not.
        scratch.fill(0, 0, BLOCK + 32);
      }
    },
  };
}
