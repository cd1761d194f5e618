import { describe, expect, it } from "vitest";
import { fillRandom, randomSecret } from "../../src/engine/random-pool.js";

describe("random pool", () => {
  it("hands out distinct bytes across pool refills", () => {
    // 2,000 draws of 32 bytes cross the 16 KiB pool's refill several times.
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) seen.add(randomSecret(32).toString("hex"));
    expect(seen.size).toBe(2000);
  });

  it("gives each secret a buffer of its own, so wiping it wipes every copy", () => {
    const secret = randomSecret(32);
    expect(secret.length).toBe(32);
    expect(secret.byteOffset).toBe(0);
    expect(secret.buffer.byteLength).toBe(32);
  });

  it("fills exactly the asked range, pooled or direct", () => {
    for (const length of [1, 44, 4096, 4097, 20_000]) {
      const target = Buffer.alloc(length + 8, 0xaa);
      fillRandom(target, 4, length);
      expect(target.subarray(0, 4).equals(Buffer.alloc(4, 0xaa))).toBe(true);
      expect(target.subarray(length + 4).equals(Buffer.alloc(4, 0xaa))).toBe(true);
      // 8 random bytes all 0xaa, or a long run of zeros, would mean nothing was written.
      if (length >= 8) {
        expect(target.subarray(4, 12).equals(Buffer.alloc(8, 0xaa))).toBe(false);
        expect(target.subarray(4, length + 4).equals(Buffer.alloc(length))).toBe(false);
      }
    }
  });
});
