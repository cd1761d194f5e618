import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createSigningKeyCache, deriveSigningKey } from "../../src/auth/signing-key-cache.js";

const SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

describe("deriveSigningKey", () => {
  it("matches AWS's documented example (IAM, 20150830, us-east-1)", () => {
    expect(deriveSigningKey(SECRET, "20150830", "us-east-1", "iam").toString("hex")).toBe(
      "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9",
    );
  });
});

describe("createSigningKeyCache", () => {
  it("returns the same key object for the same secret and scope", () => {
    const cache = createSigningKeyCache();
    const a = cache.get(SECRET, "20150830", "us-east-1", "iam");
    expect(a.toString("hex")).toBe(
      "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9",
    );
    expect(cache.get(SECRET, "20150830", "us-east-1", "iam")).toBe(a);
    expect(cache.size).toBe(1);
  });

  it("keeps scopes and secrets apart", () => {
    const cache = createSigningKeyCache();
    const base = cache.get(SECRET, "20150830", "us-east-1", "iam");
    for (const other of [
      cache.get(SECRET, "20150831", "us-east-1", "iam"),
      cache.get(SECRET, "20150830", "us-east-2", "iam"),
      cache.get(SECRET, "20150830", "us-east-1", "s3"),
      cache.get(`${SECRET}x`, "20150830", "us-east-1", "iam"),
      // Parts that would collide if simply concatenated.
      cache.get(SECRET, "20150830", "us-east-1i", "am"),
    ]) {
      expect(other.equals(base)).toBe(false);
    }
    expect(cache.size).toBe(6);
  });

  it("is bounded and evicts the least recently used key", () => {
    const cache = createSigningKeyCache(3);
    const first = cache.get("s1", "20240101", "r", "s");
    const second = cache.get("s2", "20240101", "r", "s");
    cache.get("s3", "20240101", "r", "s");
    expect(cache.get("s1", "20240101", "r", "s")).toBe(first); // s1 is now most recent
    cache.get("s4", "20240101", "r", "s"); // evicts s2
    expect(cache.size).toBe(3);
    expect(cache.get("s1", "20240101", "r", "s")).toBe(first);
    const again = cache.get("s2", "20240101", "r", "s");
    expect(again).not.toBe(second);
    expect(again.equals(second)).toBe(true);
    for (let i = 0; i < 100; i++) cache.get(`x${i}`, "20240101", "r", "s");
    expect(cache.size).toBe(3);
  });

  it("defaults to 1024 entries", () => {
    const cache = createSigningKeyCache();
    for (let i = 0; i < 1100; i++) cache.get(`s${i}`, "20240101", "r", "s");
    expect(cache.size).toBe(1024);
  });

  it("rejects a bound that is not a positive integer", () => {
    expect(() => createSigningKeyCache(0)).toThrow(RangeError);
    expect(() => createSigningKeyCache(1.5)).toThrow(RangeError);
  });

  it("hands out HMAC-SHA256 under the cached key, one per entry, sharing its bound", () => {
    const cache = createSigningKeyCache(2);
    const signer = cache.signer(SECRET, "20150830", "us-east-1", "iam");
    const key = cache.get(SECRET, "20150830", "us-east-1", "iam");
    expect(signer.digestLatin1("to sign")).toBe(
      createHmac("sha256", key).update("to sign").digest("binary"),
    );
    expect(cache.signer(SECRET, "20150830", "us-east-1", "iam")).toBe(signer);
    const other = cache.signer(SECRET, "20150831", "us-east-1", "iam");
    expect(other.digestLatin1("to sign")).not.toBe(signer.digestLatin1("to sign"));
    expect(cache.size).toBe(2);
    cache.get("s3", "20150830", "us-east-1", "iam"); // evicts the first scope
    expect(cache.size).toBe(2);
    const again = cache.signer(SECRET, "20150830", "us-east-1", "iam");
    expect(again).not.toBe(signer);
    expect(again.digestLatin1("to sign")).toBe(signer.digestLatin1("to sign"));
  });
});
