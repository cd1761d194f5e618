import { createCipheriv, randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeEncryptionContext } from "../../src/engine/encryption-context.js";
import {
  ENVELOPE_FORMAT_LEGACY,
  ENVELOPE_FORMAT_V1,
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

const sealedInput = fc.record({
  material,
  keyId,
  keyVersion,
  plaintext: fc.uint8Array({ maxLength: 48 }),
  context,
});

/** A sealed envelope with small plaintexts, so that every bit of it can be flipped. */
const sealed = sealedInput.map((r): Sealed => {
  const aad = encodeEncryptionContext(r.context);
  const blob = sealEnvelope(r.material, r.keyId, r.keyVersion, r.plaintext, aad);
  return { ...r, aad, blob };
});

/**
 * sealLegacy writes the legacy envelope (format byte 0x01) as releases before
 * envelope v1 did, from docs/envelope.md: the header, a random IV, AES-256-GCM
 * directly under the material with header ‖ context as AAD. The engine no
 * longer writes this format; it must keep opening it.
 */
function sealLegacy(r: {
  material: Uint8Array;
  keyId: string;
  keyVersion: number;
  plaintext: Uint8Array;
  aad: Buffer;
}): Buffer {
  const header = Buffer.alloc(14 + r.keyId.length);
  header.write("KGWE", 0, "latin1");
  header[4] = ENVELOPE_FORMAT_LEGACY;
  header[5] = r.keyId.length;
  header.write(r.keyId, 6, "latin1");
  header.writeUInt32BE(r.keyVersion, 6 + r.keyId.length);
  header.writeUInt32BE(r.plaintext.length, 10 + r.keyId.length);
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", r.material, iv);
  cipher.setAAD(Buffer.concat([header, r.aad]));
  const ciphertext = Buffer.concat([cipher.update(r.plaintext), cipher.final()]);
  return Buffer.concat([header, iv, ciphertext, cipher.getAuthTag()]);
}

/** A legacy (format 0x01) envelope, as the engine issued before envelope v1. */
const legacySealed = sealedInput.map((r): Sealed => {
  const aad = encodeEncryptionContext(r.context);
  return { ...r, aad, blob: sealLegacy({ ...r, aad }) };
});

/** Either format: every decoder property holds for both. */
const anySealed = fc.oneof(sealed, legacySealed);

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
  it("opens what it sealed, and legacy blobs, with the key id and version they name", () => {
    fc.assert(
      fc.property(anySealed, (s) => {
        const parsed = parseEnvelope(s.blob);
        expect(parsed.keyId).toBe(s.keyId);
        expect(parsed.keyVersion).toBe(s.keyVersion);
        expect(openEnvelope(s.material, parsed, s.aad)).toEqual(Buffer.from(s.plaintext));
      }),
      fuzzSettings(100),
    );
  });

  it("fails every single-bit flip of either format with the one opaque error", () => {
    fc.assert(
      fc.property(anySealed, (s) => {
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
      fc.property(anySealed, fc.uint8Array({ minLength: 1, maxLength: 64 }), (s, trailer) => {
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
      fc.property(anySealed, material, context, (s, otherMaterial, otherContext) => {
        const otherAad = encodeEncryptionContext(otherContext);
        fc.pre(!otherAad.equals(s.aad) || !Buffer.from(otherMaterial).equals(s.material));
        expect(isOpaqueError(decode({ material: otherMaterial, aad: otherAad }, s.blob))).toBe(
          true,
        );
      }),
      fuzzSettings(100),
    );
  });

  it("still opens when the context's entries come in another order", () => {
    const entries = fc.uniqueArray(fc.tuple(fc.string({ maxLength: 12 }), fc.string()), {
      selector: ([key]) => key,
      minLength: 2,
      maxLength: 8,
    });
    fc.assert(
      fc.property(sealedInput, entries, fc.boolean(), (r, list, legacy) => {
        const aad = encodeEncryptionContext(Object.fromEntries(list));
        const blob = legacy
          ? sealLegacy({ ...r, aad })
          : sealEnvelope(r.material, r.keyId, r.keyVersion, r.plaintext, aad);
        // Reversed, and rotated by one: the map is the same, its insertion order is not.
        for (const order of [[...list].reverse(), [...list.slice(1), list[0]]]) {
          const reordered = encodeEncryptionContext(Object.fromEntries(order as typeof list));
          expect(decode({ material: r.material, aad: reordered }, blob)).toEqual(
            Buffer.from(r.plaintext),
          );
        }
      }),
      fuzzSettings(100),
    );
  });

  it("fails when one entry of the context is changed, added or removed", () => {
    const entries = fc.uniqueArray(fc.tuple(fc.string({ maxLength: 12 }), fc.string()), {
      selector: ([key]) => key,
      maxLength: 8,
    });
    const edit = fc.record({
      kind: fc.constantFrom("change-value", "change-key", "add", "remove"),
      index: fc.nat(),
      text: fc.string({ maxLength: 12 }),
    });
    fc.assert(
      fc.property(sealedInput, entries, edit, fc.boolean(), (r, list, e, legacy) => {
        const original = Object.fromEntries(list);
        const aad = encodeEncryptionContext(original);
        const blob = legacy
          ? sealLegacy({ ...r, aad })
          : sealEnvelope(r.material, r.keyId, r.keyVersion, r.plaintext, aad);
        const edited = new Map(list);
        const target = list.length === 0 ? undefined : list[e.index % list.length];
        if (e.kind === "add" || target === undefined) {
          fc.pre(!edited.has(e.text));
          edited.set(e.text, "");
        } else if (e.kind === "remove") {
          edited.delete(target[0]);
        } else if (e.kind === "change-value") {
          fc.pre(e.text !== target[1]);
          edited.set(target[0], e.text);
        } else {
          fc.pre(!edited.has(e.text));
          edited.delete(target[0]);
          edited.set(e.text, target[1]);
        }
        const changed = encodeEncryptionContext(Object.fromEntries(edited));
        expect(isOpaqueError(decode({ material: r.material, aad: changed }, blob))).toBe(true);
      }),
      fuzzSettings(200),
    );
  });

  it("answers arbitrary bytes with the one opaque error, never another exception", () => {
    // Raw noise mostly dies at the magic; the second arbitrary puts a well-formed header
    // (magic, version, any id length, id, version, length) in front, to reach the deeper checks.
    const header = fc
      .tuple(
        fc.constantFrom(ENVELOPE_FORMAT_V1, ENVELOPE_FORMAT_LEGACY),
        fc.integer({ min: 0, max: 255 }),
        fc.uint8Array({ maxLength: 140 }),
        fc.integer({ min: 0, max: 0xffff_ffff }),
        fc.oneof(
          fc.integer({ min: 0, max: 0xffff_ffff }),
          fc.integer({ min: 0, max: MAX_ENVELOPE_PLAINTEXT + 1 }),
        ),
      )
      .map(([format, idLength, id, version, length]) => {
        const fixed = Buffer.alloc(8);
        fixed.writeUInt32BE(version, 0);
        fixed.writeUInt32BE(length, 4);
        return Buffer.concat([
          Buffer.from("KGWE", "latin1"),
          Buffer.of(format, idLength),
          id,
          fixed,
        ]);
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
