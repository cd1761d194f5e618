import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeEncryptionContext } from "../../src/engine/encryption-context.js";
import {
  INVALID_CIPHERTEXT_MESSAGE,
  MAX_ENVELOPE_PLAINTEXT,
  openEnvelope,
  parseEnvelope,
  sealEnvelope,
} from "../../src/engine/envelope.js";
import { isKmsError } from "../../src/engine/errors.js";
import { isValidKeyId } from "../../src/engine/key-id.js";
import { fuzzSettings, fuzzTestTimeoutMs } from "../helpers/fuzz-settings.js";

// The envelope decoder faces the network through Decrypt's ciphertext_blob: whatever bytes a
// caller sends, the answer is the plaintext of a blob we sealed, or the one opaque error.

const keyIdChar = fc.constantFrom(
  ..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-".split(""),
);
// Filtered through the engine's own rule, so the property follows it if the rule tightens.
const keyId = fc.string({ unit: keyIdChar, minLength: 1, maxLength: 128 }).filter(isValidKeyId);
const keyVersion = fc.integer({ min: 1, max: 0xffff_ffff });
const context = fc.dictionary(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), {
  maxKeys: 4,
});
const material = fc.uint8Array({ minLength: 32, maxLength: 32 });

interface Sealed {
  material: Uint8Array;
  keyId: string;
  keyVersion: number;
  plaintext: Uint8Array;
  aad: Buffer;
  blob: Buffer;
}

/** A sealed envelope with small plaintexts, so that every bit of it can be flipped. */
const sealed = fc
  .record({
    material,
    keyId,
    keyVersion,
    plaintext: fc.uint8Array({ maxLength: 48 }),
    context,
  })
  .map((r): Sealed => {
    const aad = encodeEncryptionContext(r.context);
    const blob = sealEnvelope(r.material, r.keyId, r.keyVersion, r.plaintext, aad);
    return { ...r, aad, blob };
  });

/** decode runs the whole decoder (parse, then authenticate and decrypt): plaintext or error. */
function decode(s: Pick<Sealed, "material" | "aad">, blob: Uint8Array): Buffer | unknown {
  try {
    return openEnvelope(s.material, parseEnvelope(blob), s.aad);
  } catch (error) {
    return error;
  }
}

function isOpaqueError(value: unknown): boolean {
  return (
    isKmsError(value, "INVALID_CIPHERTEXT") &&
    value.message === INVALID_CIPHERTEXT_MESSAGE &&
    value.cause === undefined
  );
}

describe("envelope decoder (property)", { timeout: fuzzTestTimeoutMs }, () => {
  it("opens what it sealed, with the key id and version it was sealed under", () => {
    fc.assert(
      fc.property(sealed, (s) => {
        const parsed = parseEnvelope(s.blob);
        expect(parsed.keyId).toBe(s.keyId);
        expect(parsed.keyVersion).toBe(s.keyVersion);
        expect(openEnvelope(s.material, parsed, s.aad)).toEqual(Buffer.from(s.plaintext));
      }),
      fuzzSettings(100),
    );
  });

  it("fails every single-bit flip with the one opaque error", () => {
    fc.assert(
      fc.property(sealed, (s) => {
        for (let bit = 0; bit < s.blob.length * 8; bit++) {
          const copy = Buffer.from(s.blob);
          copy[bit >> 3] = (copy[bit >> 3] as number) ^ (1 << (bit & 7));
          const result = decode(s, copy);
          if (!isOpaqueError(result)) {
            expect.fail(`bit ${bit} flipped still gave ${String(result)}`);
          }
        }
      }),
      fuzzSettings(10, 0.05),
    );
  });

  it("fails every truncation and any trailing bytes with the one opaque error", () => {
    fc.assert(
      fc.property(sealed, fc.uint8Array({ minLength: 1, maxLength: 64 }), (s, trailer) => {
        for (let length = 0; length < s.blob.length; length++) {
          const result = decode(s, s.blob.subarray(0, length));
          if (!isOpaqueError(result)) expect.fail(`truncated to ${length}: ${String(result)}`);
        }
        expect(isOpaqueError(decode(s, Buffer.concat([s.blob, trailer])))).toBe(true);
      }),
      fuzzSettings(25, 0.1),
    );
  });

  it("fails under another key or another encryption context", () => {
    fc.assert(
      fc.property(sealed, material, context, (s, otherMaterial, otherContext) => {
        const otherAad = encodeEncryptionContext(otherContext);
        fc.pre(!otherAad.equals(s.aad) || !Buffer.from(otherMaterial).equals(s.material));
        expect(isOpaqueError(decode({ material: otherMaterial, aad: otherAad }, s.blob))).toBe(
          true,
        );
      }),
      fuzzSettings(100),
    );
  });

  it("answers arbitrary bytes with the one opaque error, never another exception", () => {
    // Raw noise mostly dies at the magic; the second arbitrary puts a well-formed header
    // (magic, version, any id length, id, version, length) in front, to reach the deeper checks.
    const header = fc
      .tuple(
        fc.integer({ min: 0, max: 255 }),
        fc.uint8Array({ maxLength: 140 }),
        fc.integer({ min: 0, max: 0xffff_ffff }),
        fc.oneof(
          fc.integer({ min: 0, max: 0xffff_ffff }),
          fc.integer({ min: 0, max: MAX_ENVELOPE_PLAINTEXT + 1 }),
        ),
      )
      .map(([idLength, id, version, length]) => {
        const fixed = Buffer.alloc(8);
        fixed.writeUInt32BE(version, 0);
        fixed.writeUInt32BE(length, 4);
        return Buffer.concat([Buffer.from("KGWE\x01", "latin1"), Buffer.of(idLength), id, fixed]);
      });
    const blob = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc
        .tuple(header, fc.uint8Array({ maxLength: 200 }))
        .map(([h, rest]) => Buffer.concat([h, rest])),
    );
    const key = randomBytes(32);
    const aad = encodeEncryptionContext(undefined);
    fc.assert(
      fc.property(blob, (bytes) => {
        // Nothing random authenticates under a key it never saw: only the opaque error.
        expect(isOpaqueError(decode({ material: key, aad }, bytes))).toBe(true);
      }),
      fuzzSettings(600),
    );
  });
});
