import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { encodeEncryptionContext } from "../../src/engine/encryption-context.js";
import {
  ENVELOPE_FORMAT_LEGACY,
  ENVELOPE_FORMAT_V1,
  openEnvelope,
  parseEnvelope,
  sealEnvelopeWith,
} from "../../src/engine/envelope.js";
import {
  ENVELOPE_VECTORS_PATH,
  type EnvelopeVector,
  generateEnvelopeVectors,
} from "../fixtures/envelope-vectors-generator.js";

const { vectors } = JSON.parse(readFileSync(ENVELOPE_VECTORS_PATH, "utf8")) as {
  vectors: EnvelopeVector[];
};
const hex = (text: string) => Buffer.from(text, "hex");

describe("envelope known-answer vectors (docs/envelope.md)", () => {
  it("are the generator's output, both formats present", () => {
    expect(vectors).toEqual(generateEnvelopeVectors());
    expect(vectors.filter((v) => v.format === ENVELOPE_FORMAT_V1).length).toBeGreaterThanOrEqual(5);
    expect(
      vectors.filter((v) => v.format === ENVELOPE_FORMAT_LEGACY).length,
    ).toBeGreaterThanOrEqual(2);
  });

  it.each(vectors.map((v) => [v.name, v] as const))("%s: decrypts to its plaintext", (_, v) => {
    const context = encodeEncryptionContext(v.encryption_context);
    expect(context.toString("hex")).toBe(v.encoded_context);
    const blob = Buffer.from(v.blob_base64, "base64");
    expect(blob.toString("hex")).toBe(v.blob);
    const parsed = parseEnvelope(blob);
    expect(parsed).toMatchObject({ format: v.format, keyId: v.key_id, keyVersion: v.key_version });
    expect(parsed.salt?.toString("hex") ?? null).toBe(v.salt);
    expect(parsed.iv.toString("hex")).toBe(v.iv);
    expect(Buffer.concat([parsed.header, context]).toString("hex")).toBe(v.aad);
    expect(openEnvelope(hex(v.key_material), parsed, context).toString("hex")).toBe(v.plaintext);
  });

  it.each(vectors.filter((v) => v.format === ENVELOPE_FORMAT_V1).map((v) => [v.name, v] as const))(
    "%s: sealing with its salt and IV gives its blob byte for byte",
    (_, v) => {
      const blob = sealEnvelopeWith(
        hex(v.key_material),
        v.key_id,
        v.key_version,
        hex(v.plaintext),
        encodeEncryptionContext(v.encryption_context),
        { salt: hex(v.salt ?? ""), iv: hex(v.iv) },
      );
      expect(blob.toString("hex")).toBe(v.blob);
    },
  );

  it("refuses a salt or IV of the wrong length", () => {
    const v = vectors[0] as EnvelopeVector;
    const seal = (salt: Buffer, iv: Buffer) =>
      sealEnvelopeWith(hex(v.key_material), v.key_id, 1, Buffer.alloc(1), Buffer.alloc(4), {
        salt,
        iv,
      });
    expect(() => seal(Buffer.alloc(31), Buffer.alloc(12))).toThrow(/32-byte salt/);
    expect(() => seal(Buffer.alloc(32), Buffer.alloc(16))).toThrow(/12-byte IV/);
  });
});
