import { createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeEncryptionContext } from "../../src/engine/encryption-context.js";
import {
  ENVELOPE_FORMAT_V1,
  ENVELOPE_HKDF_INFO,
  INVALID_CIPHERTEXT_MESSAGE,
  openEnvelope,
  parseEnvelope,
  sealEnvelope,
} from "../../src/engine/envelope.js";
import { isKmsError } from "../../src/engine/errors.js";
import { fuzzSettings, fuzzTestTimeoutMs } from "../helpers/fuzz-settings.js";

const material = randomBytes(32);
const noContext = encodeEncryptionContext(undefined);

function parseError(blob: Uint8Array): unknown {
  try {
    parseEnvelope(blob);
  } catch (error) {
    return error;
  }
  return undefined;
}

describe("envelope", () => {
  it("lays out magic, version, key id, key version, length, salt and IV as documented", () => {
    const plaintext = randomBytes(32);
    const blob = sealEnvelope(material, "key-1", 7, plaintext, noContext);
    expect(blob.subarray(0, 4).toString("latin1")).toBe("KGWE");
    expect(blob[4]).toBe(ENVELOPE_FORMAT_V1);
    expect(blob[5]).toBe(5);
    expect(blob.subarray(6, 11).toString("latin1")).toBe("key-1");
    expect(blob.readUInt32BE(11)).toBe(7);
    expect(blob.readUInt32BE(15)).toBe(32);
    expect(blob.length).toBe(19 + 32 + 12 + 32 + 16);
    const parsed = parseEnvelope(blob);
    expect(parsed).toMatchObject({ format: ENVELOPE_FORMAT_V1, keyId: "key-1", keyVersion: 7 });
    expect(parsed.salt).toEqual(blob.subarray(19, 51));
    expect(parsed.iv).toEqual(blob.subarray(51, 63));
    expect(parsed.header).toEqual(blob.subarray(0, 51));
    expect(openEnvelope(material, parsed, noContext)).toEqual(plaintext);
  });

  it("draws a fresh salt and IV for every wrap", () => {
    // Past the 256 wraps of one pool refill, so a refill is crossed too.
    const seen = new Set<string>();
    for (let i = 0; i < 600; i++) {
      const parsed = parseEnvelope(sealEnvelope(material, "k", 1, Buffer.alloc(0), noContext));
      seen.add((parsed.salt as Buffer).toString("hex"));
      seen.add(parsed.iv.toString("hex"));
    }
    expect(seen.size).toBe(1200);
  });

  it("rejects every truncation and any trailing byte with the one opaque error", () => {
    const blob = sealEnvelope(material, "k", 1, randomBytes(16), noContext);
    for (let length = 0; length < blob.length; length++) {
      const error = parseError(blob.subarray(0, length));
      expect(isKmsError(error, "INVALID_CIPHERTEXT"), `length ${length}`).toBe(true);
      expect((error as Error).message).toBe(INVALID_CIPHERTEXT_MESSAGE);
    }
    const error = parseError(Buffer.concat([blob, Buffer.of(0)]));
    expect(isKmsError(error, "INVALID_CIPHERTEXT")).toBe(true);
    expect((error as Error).message).toBe(INVALID_CIPHERTEXT_MESSAGE);
  });

  it("rejects a wrong magic, format version, key id length or key id character", () => {
    const blob = sealEnvelope(material, "k", 1, randomBytes(16), noContext);
    const mutate = (offset: number, value: number) => {
      const copy = Buffer.from(blob);
      copy[offset] = value;
      return copy;
    };
    for (const bad of [
      mutate(0, 0x00),
      mutate(4, 0),
      mutate(4, 3),
      mutate(4, 1),
      mutate(5, 0),
      mutate(5, 129),
      mutate(6, 0x2f),
    ]) {
      expect(isKmsError(parseError(bad), "INVALID_CIPHERTEXT")).toBe(true);
    }
  });

  it("fails to open under another key or context, with the same message", () => {
    const context = encodeEncryptionContext({ a: "1" });
    const parsed = parseEnvelope(sealEnvelope(material, "k", 1, randomBytes(16), context));
    for (const [key, ctx] of [
      [randomBytes(32), context],
      [material, noContext],
    ] as const) {
      let caught: unknown;
      try {
        openEnvelope(key, parsed, ctx);
      } catch (error) {
        caught = error;
      }
      expect(isKmsError(caught, "INVALID_CIPHERTEXT")).toBe(true);
      expect((caught as Error).message).toBe(INVALID_CIPHERTEXT_MESSAGE);
    }
  });
});

describe("envelope wrapping key (the hand-written HKDF against node:crypto's hkdfSync)", () => {
  // The envelope derives its wrapping key with a hand-written HMAC (one-shot hashes):
  // every blob must open with the key node:crypto's own HKDF derives, whatever the
  // material's length (up to and past one HMAC block) and the plaintext.
  it(
    "opens every sealed blob with hkdfSync's key and AES-256-GCM from node:crypto",
    () => {
      fc.assert(
        fc.property(
          fc.uint8Array({ minLength: 1, maxLength: 100 }),
          fc.uint8Array({ maxLength: 80 }),
          fc.uint8Array({ maxLength: 40 }),
          (keyMaterial, plaintext, context) => {
            const parsed = parseEnvelope(sealEnvelope(keyMaterial, "k-1", 3, plaintext, context));
            const key = Buffer.from(
              hkdfSync("sha256", keyMaterial, parsed.salt as Buffer, ENVELOPE_HKDF_INFO, 32),
            );
            const decipher = createDecipheriv("aes-256-gcm", key, parsed.iv, { authTagLength: 16 });
            decipher.setAAD(Buffer.concat([parsed.header, context]));
            decipher.setAuthTag(parsed.tag);
            const opened = Buffer.concat([decipher.update(parsed.ciphertext), decipher.final()]);
            expect(opened.equals(Buffer.from(plaintext))).toBe(true);
            expect(openEnvelope(keyMaterial, parsed, context).equals(opened)).toBe(true);
          },
        ),
        fuzzSettings(300),
      );
    },
    fuzzTestTimeoutMs,
  );
});

describe("encodeEncryptionContext", () => {
  it("is independent of entry order and unambiguous", () => {
    expect(encodeEncryptionContext({ a: "1", b: "2" })).toEqual(
      encodeEncryptionContext({ b: "2", a: "1" }),
    );
    expect(encodeEncryptionContext({})).toEqual(encodeEncryptionContext(undefined));
    // Concatenation ambiguity: "ab"+"c" vs "a"+"bc".
    expect(encodeEncryptionContext({ ab: "c" })).not.toEqual(encodeEncryptionContext({ a: "bc" }));
    expect(encodeEncryptionContext({ a: "", b: "" })).not.toEqual(
      encodeEncryptionContext({ a: "\0\0\0\0b" }),
    );
  });

  it("sorts keys by UTF-8 bytes, not UTF-16 units", () => {
    // In UTF-16 units U+1F600 (0xD83D…) sorts before U+FF5E; in UTF-8 bytes
    // U+FF5E (EF…) sorts before U+1F600 (F0…). Byte order must win.
    const encoded = encodeEncryptionContext({ "\u{1F600}": "x", "\uFF5E": "y" });
    const firstKeyLength = encoded.readUInt32BE(4);
    expect(encoded.subarray(8, 8 + firstKeyLength).toString("utf8")).toBe("\uFF5E");
  });

  it("bounds entries and size and refuses malformed strings", () => {
    const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, "v"]));
    const big = { k: "v".repeat(8192) };
    const bad = [many, big, { k: "\uD800" }, { k: 1 }, [], "s"];
    for (const context of bad) {
      expect(() => encodeEncryptionContext(context)).toThrow(/encryption_context/);
    }
    const fits = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`k${i}`, "v"]));
    expect(() => encodeEncryptionContext(fits)).not.toThrow();
  });
});
