import { createHmac, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createHmacSha256, hmacSha256Latin1 } from "../../src/hashing/hmac-sha256.js";

const reference = (key: Uint8Array, message: Uint8Array | string) =>
  createHmac("sha256", key).update(message).digest("binary");

// Key lengths around the 64-byte block (a longer key is hashed first) and message lengths
// around the 512-byte scratch (a longer message takes the createHash path).
const KEY_LENGTHS = [0, 1, 31, 32, 63, 64, 65, 131];
const MESSAGE_LENGTHS = [0, 1, 32, 64, 65, 200, 511, 512, 513, 2000];

describe("hmacSha256Latin1", () => {
  it("is RFC 4231's test case 2", () => {
    const digest = hmacSha256Latin1(
      Buffer.from("Jefe"),
      Buffer.from("what do ya want for nothing?"),
    );
    expect(Buffer.from(digest, "latin1").toString("hex")).toBe(
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    );
  });

  it("agrees with createHmac for every key and message length around its bounds", () => {
    for (const k of KEY_LENGTHS) {
      for (const m of MESSAGE_LENGTHS) {
        const key = randomBytes(k);
        const message = randomBytes(m);
        expect(hmacSha256Latin1(key, message), `key ${k}, message ${m}`).toBe(
          reference(key, message),
        );
      }
    }
  });
});

describe("createHmacSha256", () => {
  it("agrees with createHmac for every key and message length, call after call", () => {
    for (const k of KEY_LENGTHS) {
      const key = randomBytes(k);
      const hmac = createHmacSha256(key);
      for (const m of MESSAGE_LENGTHS) {
        // Printable ASCII, what the SigV4 string to sign is made of.
        const message = Array.from({ length: m }, (_, i) =>
          String.fromCharCode(0x20 + (i % 95)),
        ).join("");
        expect(hmac.digestLatin1(message), `key ${k}, message ${m}`).toBe(reference(key, message));
        // A one-off HMAC in between uses the same scratch buffer.
        hmacSha256Latin1(randomBytes(32), randomBytes(48));
        expect(hmac.digestLatin1(message)).toBe(reference(key, message));
      }
    }
  });

  it("keeps two keys apart when their digests interleave", () => {
    const a = createHmacSha256(Buffer.alloc(32, 1));
    const b = createHmacSha256(Buffer.alloc(32, 2));
    expect(a.digestLatin1("m")).toBe(reference(Buffer.alloc(32, 1), "m"));
    expect(b.digestLatin1("m")).toBe(reference(Buffer.alloc(32, 2), "m"));
    expect(a.digestLatin1("m")).not.toBe(b.digestLatin1("m"));
  });

  it("does not see later changes to the key it was made from", () => {
    const key = Buffer.alloc(32, 7);
    const hmac = createHmacSha256(key);
    key.fill(0);
    expect(hmac.digestLatin1("m")).toBe(reference(Buffer.alloc(32, 7), "m"));
  });
});
