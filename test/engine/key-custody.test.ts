import { describe, expect, it } from "vitest";
import type { BackendCustody, StoredKey } from "../../src/engine/backend.js";
import {
  backendAad,
  ENVELOPE_FORMAT_BACKEND,
  MAX_BACKEND_CIPHERTEXT,
  parseAnyEnvelope,
  sealBackendEnvelope,
} from "../../src/engine/backend-envelope.js";
import { createKeyCache } from "../../src/engine/cache.js";
import { encodeEncryptionContext } from "../../src/engine/encryption-context.js";
import { INVALID_CIPHERTEXT_MESSAGE, sealEnvelope } from "../../src/engine/envelope.js";
import { KmsError } from "../../src/engine/errors.js";
import { createBackendCustody } from "../../src/engine/key-custody.js";
import { expectKmsError } from "../helpers/expect-kms-error.js";

const key: StoredKey = {
  keyId: "k1",
  description: null,
  keyState: "Enabled",
  stateBeforeDeletion: null,
  creationDate: new Date(0),
  deletionDate: null,
  tags: {},
  versions: [{ version: 1, sealedMaterial: new Uint8Array(0), createdAt: new Date(0) }],
};

/** A custodian that "encrypts" by keeping plaintexts in a map, checking the AAD like AES-GCM would. */
function fakeCustody() {
  const stored = new Map<string, { plaintext: Buffer; aad: Buffer }>();
  const calls = { wrap: 0, unwrap: 0 };
  const custody: BackendCustody = {
    rotate: async () => 2,
    async wrap(_keyId, plaintext, aad) {
      calls.wrap++;
      const ciphertext = `vault:v1:${Buffer.from(String(stored.size)).toString("base64")}`;
      stored.set(ciphertext, { plaintext: Buffer.from(plaintext), aad: Buffer.from(aad) });
      return { version: 1, ciphertext: Buffer.from(ciphertext) };
    },
    async unwrap(_keyId, ciphertext, aad) {
      calls.unwrap++;
      const entry = stored.get(Buffer.from(ciphertext).toString());
      if (!entry?.aad.equals(Buffer.from(aad))) {
        throw new KmsError("INVALID_CIPHERTEXT", "backend says no (a backend's own words)");
      }
      return Buffer.from(entry.plaintext);
    },
  };
  return { custody, calls };
}

const now = () => new Date(1_000_000);

describe("the backend envelope (format 0x03)", () => {
  it("round-trips and refuses any damage with the opaque error", () => {
    const blob = sealBackendEnvelope("k1", 7, Buffer.from("vault:v7:QUJD"));
    const parsed = parseAnyEnvelope(blob);
    expect(parsed).toMatchObject({ format: ENVELOPE_FORMAT_BACKEND, keyId: "k1", keyVersion: 7 });
    for (const bad of [
      blob.subarray(0, blob.length - 1),
      Buffer.concat([blob, Buffer.of(0)]),
      Buffer.from(blob).fill(0, 0, 1),
    ]) {
      expect(() => parseAnyEnvelope(bad)).toThrow(INVALID_CIPHERTEXT_MESSAGE);
    }
    const zeroVersion = Buffer.from(blob);
    zeroVersion.writeUInt32BE(0, 6 + 2);
    expect(() => parseAnyEnvelope(zeroVersion)).toThrow(INVALID_CIPHERTEXT_MESSAGE);
    expect(() => sealBackendEnvelope("k1", 1, Buffer.alloc(MAX_BACKEND_CIPHERTEXT + 1))).toThrow();
  });

  it("binds the key id and the context in the additional data", () => {
    const ctx = encodeEncryptionContext({ a: "b" });
    expect(backendAad("k1", ctx).equals(backendAad("k2", ctx))).toBe(false);
    expect(backendAad("k1", ctx).equals(backendAad("k1", encodeEncryptionContext({})))).toBe(false);
    expect(backendAad("k1", encodeEncryptionContext({})).length).toBeGreaterThan(0);
  });
});

describe("backend custody", () => {
  it("wraps through the backend and caches unwrap results per blob and context", async () => {
    const { custody, calls } = fakeCustody();
    const cache = createKeyCache({ enabled: true, maxKeys: 4, ttlSeconds: 60, now });
    const subject = createBackendCustody(custody, cache);
    const ctx = encodeEncryptionContext({ bucket: "b" });
    const blob = await subject.wrap(key, Buffer.from("data key bytes"), ctx);
    const parsed = parseAnyEnvelope(blob);
    const first = await subject.unwrap(key, parsed, ctx);
    first.fill(0); // the caller owns it: the cache must hold its own copy
    const second = await subject.unwrap(key, parsed, ctx);
    expect(second.toString()).toBe("data key bytes");
    expect(calls.unwrap).toBe(1);
    // Another context is a cache miss, and the backend's refusal becomes the one opaque error.
    const other = await subject.unwrap(key, parsed, encodeEncryptionContext({})).catch((e) => e);
    expect(other).toMatchObject({
      code: "INVALID_CIPHERTEXT",
      message: INVALID_CIPHERTEXT_MESSAGE,
    });
    expect(calls.unwrap).toBe(2);
    cache.dropUnwrapped("k1");
    await subject.unwrap(key, parsed, ctx);
    expect(calls.unwrap).toBe(3);
    cache.clear();
    await subject.unwrap(key, parsed, ctx);
    expect(calls.unwrap).toBe(4);
  });

  it("refuses an engine envelope without asking the backend", async () => {
    const { custody, calls } = fakeCustody();
    const subject = createBackendCustody(
      custody,
      createKeyCache({ enabled: false, maxKeys: 1, ttlSeconds: 1, now }),
    );
    const local = sealEnvelope(Buffer.alloc(32, 1), "k1", 1, Buffer.from("x"), Buffer.alloc(4));
    await expectKmsError(
      subject.unwrap(key, parseAnyEnvelope(local), Buffer.alloc(4)),
      "INVALID_CIPHERTEXT",
    );
    expect(calls.unwrap).toBe(0);
  });

  it("takes a rotation's version from the backend, with no material in the engine", async () => {
    const { custody } = fakeCustody();
    const subject = createBackendCustody(
      custody,
      createKeyCache({ enabled: false, maxKeys: 1, ttlSeconds: 1, now }),
    );
    const version = await subject.rotate(key, now());
    expect(version).toMatchObject({ version: 2 });
    expect(version.sealedMaterial).toHaveLength(0);
    expect(subject.firstVersion("k9", now()).material).toBeNull();
  });
});

describe("the unwrap cache", () => {
  it("is bounded, expires, and zero-fills what leaves it", () => {
    let t = 0;
    const cache = createKeyCache({
      enabled: true,
      maxKeys: 2,
      ttlSeconds: 1,
      now: () => new Date(t),
    });
    const held = [Buffer.from("one"), Buffer.from("two"), Buffer.from("three")];
    cache.putUnwrapped("k", "d1", held[0] as Buffer);
    cache.putUnwrapped("k", "d2", held[1] as Buffer);
    cache.putUnwrapped("j", "d3", held[2] as Buffer);
    expect(cache.size().unwrapped).toBe(2);
    expect(held[0]?.every((b) => b === 0)).toBe(true);
    expect(cache.getUnwrapped("k", "d2")?.toString()).toBe("two");
    cache.dropUnwrapped("k");
    expect(cache.getUnwrapped("k", "d2")).toBeUndefined();
    expect(held[1]?.every((b) => b === 0)).toBe(true);
    t = 1000;
    expect(cache.getUnwrapped("j", "d3")).toBeUndefined();
    expect(held[2]?.every((b) => b === 0)).toBe(true);
  });

  it("stores nothing when the cache is off", () => {
    const cache = createKeyCache({ enabled: false, maxKeys: 2, ttlSeconds: 1, now });
    const plaintext = Buffer.from("secret");
    cache.putUnwrapped("k", "d", plaintext);
    expect(plaintext.every((b) => b === 0)).toBe(true);
    expect(cache.getUnwrapped("k", "d")).toBeUndefined();
  });
});
