import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GatewayProcess, startGateway } from "../helpers/gateway-process.js";
import { signedFetch } from "../helpers/signed-fetch.js";

// Data keys over the wire: sizes, freshness, no plaintext in the blob, and the
// encryption context bound to the ciphertext.

const api = "/rustfs/admin/v3/kms";
let gw: GatewayProcess;
const context = { bucket: "analytics-data", object: "2024/09/18/report.parquet" };

beforeAll(async () => {
  gw = await startGateway();
  await signedFetch(gw.url, "POST", `${api}/keys`, { body: '{"Tags":{"name":"dk"}}' });
});
afterAll(async () => {
  await gw?.stop();
});

async function generate(keySpec?: string) {
  const res = await signedFetch(gw.url, "POST", `${api}/generate-data-key`, {
    body: JSON.stringify({
      key_id: "dk",
      encryption_context: context,
      ...(keySpec ? { key_spec: keySpec } : {}),
    }),
  });
  expect(res.status).toBe(200);
  const body = res.json as { plaintext_key: string; ciphertext_blob: string };
  return {
    plaintext: Buffer.from(body.plaintext_key, "base64"),
    blob: Buffer.from(body.ciphertext_blob, "base64"),
  };
}

function decrypt(blob: Buffer, encryptionContext: Record<string, string>) {
  return signedFetch(gw.url, "POST", `${api}/decrypt`, {
    body: JSON.stringify({
      ciphertext_blob: blob.toString("base64"),
      encryption_context: encryptionContext,
    }),
  });
}

describe("data keys", () => {
  it.each([
    ["AES_256", 32],
    ["AES_128", 16],
    ["Aes256", 32],
    ["Aes128", 16],
    [undefined, 32],
  ])("key_spec %s gives %i bytes", async (spec, size) => {
    const { plaintext } = await generate(spec);
    expect(plaintext).toHaveLength(size);
  });

  it("gives a fresh key and a fresh blob on every call; the blob never holds the plaintext", async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const { plaintext, blob } = await generate();
      expect(blob.includes(plaintext)).toBe(false);
      seen.add(plaintext.toString("hex"));
      seen.add(blob.toString("hex"));
    }
    expect(seen.size).toBe(40);
  });

  it("decrypts to the same plaintext with the same context, in any order", async () => {
    const { plaintext, blob } = await generate();
    const reordered = { object: context.object, bucket: context.bucket };
    const res = await decrypt(blob, reordered);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.json).toEqual({ key_id: "dk", plaintext_key: plaintext.toString("base64") });
  });

  it.each([
    ["a changed entry", { ...context, object: "other" }],
    ["a missing entry", { bucket: context.bucket }],
    ["an extra entry", { ...context, extra: "1" }],
    ["no context", {}],
  ])("refuses %s with 400 InvalidCiphertext", async (_, wrong) => {
    const { blob } = await generate();
    const res = await decrypt(blob, wrong);
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ code: "InvalidCiphertext" });
  });

  it("refuses a blob with any one bit flipped, or truncated, with 400 InvalidCiphertext", async () => {
    const { blob } = await generate("AES_128");
    // Every bit of the blob, one request each, spread over concurrent batches.
    const bits = [...Array(blob.length * 8).keys()];
    for (let i = 0; i < bits.length; i += 32) {
      const answers = await Promise.all(
        bits.slice(i, i + 32).map((bit) => {
          const tampered = Buffer.from(blob);
          tampered[bit >> 3] = (tampered[bit >> 3] ?? 0) ^ (1 << (bit & 7));
          return decrypt(tampered, context);
        }),
      );
      for (const res of answers) {
        // A flipped bit in the key id names a key that does not exist: that
        // is a tampered blob too, not a lookup of a key the caller named.
        expect(res.status).toBe(400);
        expect(res.json).toMatchObject({ code: "InvalidCiphertext" });
      }
    }
    const truncated = await decrypt(blob.subarray(0, blob.length - 1), context);
    expect(truncated.status).toBe(400);
    expect(truncated.json).toMatchObject({ code: "InvalidCiphertext" });
  });
});
