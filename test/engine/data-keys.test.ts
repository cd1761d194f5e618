import { describe, expect, it } from "vitest";
import { INVALID_CIPHERTEXT_MESSAGE } from "../../src/engine/envelope.js";
import { isValidKeyId } from "../../src/engine/key-id.js";
import { createFixture, expectKmsError, KEY_DIR, LOCAL_CONFIG } from "./engine-fixture.js";

function containsSubsequence(haystack: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(haystack).includes(Buffer.from(needle));
}

describe("generateDataKey and decrypt", () => {
  it("makes 32-byte keys by default and 16-byte keys for AES_128, in every spelling", async () => {
    const { engine } = await createFixture();
    await engine.createKey({ tags: { name: "k" } });
    for (const [keySpec, length] of [
      [undefined, 32],
      ["AES_256", 32],
      ["Aes256", 32],
      ["AES_128", 16],
      ["Aes128", 16],
    ] as const) {
      const dataKey = await engine.generateDataKey({ keyId: "k", keySpec });
      expect(dataKey.keyId).toBe("k");
      expect(dataKey.plaintextKey).toHaveLength(length);
      const decrypted = await engine.decrypt({ ciphertextBlob: dataKey.ciphertextBlob });
      expect(decrypted).toEqual({ keyId: "k", plaintextKey: dataKey.plaintextKey });
    }
    await expectKmsError(
      engine.generateDataKey({ keyId: "k", keySpec: "AES_512" }),
      "INVALID_ARGUMENT",
    );
  });

  it("gives a fresh key and a fresh blob on every call, never containing the plaintext", async () => {
    const { engine } = await createFixture();
    await engine.createKey({ tags: { name: "k" } });
    const keys = new Set<string>();
    const blobs = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const dataKey = await engine.generateDataKey({ keyId: "k", encryptionContext: { n: "1" } });
      keys.add(Buffer.from(dataKey.plaintextKey).toString("hex"));
      blobs.add(Buffer.from(dataKey.ciphertextBlob).toString("hex"));
      expect(containsSubsequence(dataKey.ciphertextBlob, dataKey.plaintextKey)).toBe(false);
      // Not even a long piece of it.
      expect(containsSubsequence(dataKey.ciphertextBlob, dataKey.plaintextKey.subarray(0, 8))).toBe(
        false,
      );
    }
    expect(keys.size).toBe(20);
    expect(blobs.size).toBe(20);
  });

  it("binds the encryption context: order is irrelevant, any change fails", async () => {
    const { engine } = await createFixture();
    await engine.createKey({ tags: { name: "k" } });
    const context = { bucket: "analytics-data", object: "2024/09/18/report.parquet" };
    const { ciphertextBlob, plaintextKey } = await engine.generateDataKey({
      keyId: "k",
      encryptionContext: context,
    });
    const reordered = { object: context.object, bucket: context.bucket };
    expect(
      (await engine.decrypt({ ciphertextBlob, encryptionContext: reordered })).plaintextKey,
    ).toEqual(plaintextKey);
    const wrong: (Record<string, string> | undefined)[] = [
      undefined,
      {},
      { bucket: "analytics-data" },
      { ...context, extra: "x" },
      { ...context, bucket: "other" },
      { Bucket: "analytics-data", object: context.object },
    ];
    for (const encryptionContext of wrong) {
      await expectKmsError(
        engine.decrypt({ ciphertextBlob, encryptionContext }),
        "INVALID_CIPHERTEXT",
        INVALID_CIPHERTEXT_MESSAGE,
      );
    }
  });

  it("rejects every single flipped bit of a blob with INVALID_CIPHERTEXT", async () => {
    const { engine } = await createFixture();
    const keyId = "key-A";
    await engine.createKey({ tags: { name: keyId } });
    // A flipped bit inside the key id can name another valid id. Unknown ids
    // answer KEY_NOT_FOUND by design (see the next test), so create every such
    // neighbour: then each flip must fail authentication, not lookup.
    for (let i = 0; i < keyId.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const chars = [...keyId];
        chars[i] = String.fromCharCode(keyId.charCodeAt(i) ^ (1 << bit));
        const neighbour = chars.join("");
        if (isValidKeyId(neighbour)) await engine.createKey({ tags: { name: neighbour } });
      }
    }
    const context = { c: "1" };
    const { ciphertextBlob } = await engine.generateDataKey({ keyId, encryptionContext: context });
    for (let bit = 0; bit < ciphertextBlob.length * 8; bit++) {
      const flipped = Uint8Array.from(ciphertextBlob);
      flipped[bit >> 3] = (flipped[bit >> 3] as number) ^ (1 << (bit & 7));
      let code: string | undefined;
      let message: string | undefined;
      try {
        await engine.decrypt({ ciphertextBlob: flipped, encryptionContext: context });
      } catch (error) {
        ({ code, message } = error as { code: string; message: string });
      }
      expect(code, `bit ${bit}`).toBe("INVALID_CIPHERTEXT");
      expect(message).toBe(INVALID_CIPHERTEXT_MESSAGE);
    }
  });

  it("answers INVALID_CIPHERTEXT for a well-formed blob naming an unknown key", async () => {
    const { engine } = await createFixture();
    await engine.createKey({ tags: { name: "aaa" } });
    const { ciphertextBlob } = await engine.generateDataKey({ keyId: "aaa" });
    const renamed = Buffer.from(ciphertextBlob);
    renamed.write("zzz", 6, "latin1");
    await expectKmsError(engine.decrypt({ ciphertextBlob: renamed }), "INVALID_CIPHERTEXT");
  });

  it("rejects truncated blobs, a trailing byte and an unknown key version", async () => {
    const { engine } = await createFixture();
    await engine.createKey({ tags: { name: "k" } });
    const { ciphertextBlob } = await engine.generateDataKey({ keyId: "k" });
    for (const length of [0, 1, 5, 20, ciphertextBlob.length - 1]) {
      await expectKmsError(
        engine.decrypt({ ciphertextBlob: ciphertextBlob.subarray(0, length) }),
        "INVALID_CIPHERTEXT",
        INVALID_CIPHERTEXT_MESSAGE,
      );
    }
    await expectKmsError(
      engine.decrypt({ ciphertextBlob: Buffer.concat([ciphertextBlob, Buffer.of(0)]) }),
      "INVALID_CIPHERTEXT",
    );
    const otherVersion = Buffer.from(ciphertextBlob);
    otherVersion.writeUInt32BE(2, 7);
    await expectKmsError(engine.decrypt({ ciphertextBlob: otherVersion }), "INVALID_CIPHERTEXT");
  });

  it("uses default_key_id when key_id is omitted, and requires one otherwise", async () => {
    const withDefault = await createFixture({
      configure: { ...LOCAL_CONFIG, defaultKeyId: "dflt" },
    });
    await withDefault.engine.createKey({ tags: { name: "dflt" } });
    expect((await withDefault.engine.generateDataKey({})).keyId).toBe("dflt");
    expect((await withDefault.engine.generateDataKey({ keyId: "" })).keyId).toBe("dflt");

    const without = await createFixture();
    await expectKmsError(
      without.engine.generateDataKey({}),
      "INVALID_ARGUMENT",
      /^key_id is required \(no default_key_id configured\)$/,
    );
    await expectKmsError(without.engine.generateDataKey({ keyId: "nope" }), "KEY_NOT_FOUND");
    await expectKmsError(without.engine.generateDataKey({ keyId: "bad/id" }), "INVALID_ARGUMENT");
  });

  it("refuses Disabled and PendingDeletion keys for generate and decrypt", async () => {
    const { engine, backends } = await createFixture({
      configure: { ...LOCAL_CONFIG, enableCache: false },
    });
    await engine.createKey({ tags: { name: "k" } });
    const { ciphertextBlob } = await engine.generateDataKey({ keyId: "k" });
    const store = backends.storeFor(KEY_DIR);
    const stored = store.keys.get("k");
    if (stored === undefined) throw new Error("missing key");
    store.keys.set("k", { ...stored, keyState: "Disabled" });
    await expectKmsError(
      engine.generateDataKey({ keyId: "k" }),
      "INVALID_KEY_STATE",
      /is Disabled/,
    );
    await expectKmsError(engine.decrypt({ ciphertextBlob }), "INVALID_KEY_STATE", /is Disabled/);
    store.keys.set("k", stored);
    await engine.scheduleKeyDeletion("k", 7);
    await expectKmsError(
      engine.generateDataKey({ keyId: "k" }),
      "INVALID_KEY_STATE",
      /is PendingDeletion/,
    );
    await expectKmsError(
      engine.decrypt({ ciphertextBlob }),
      "INVALID_KEY_STATE",
      /is PendingDeletion/,
    );
    await engine.cancelKeyDeletion("k");
    expect((await engine.decrypt({ ciphertextBlob })).keyId).toBe("k");
  });

  it("sealed key material cannot be moved onto another key", async () => {
    const { engine, backends } = await createFixture({
      configure: { ...LOCAL_CONFIG, enableCache: false },
    });
    await engine.createKey({ tags: { name: "a" } });
    await engine.createKey({ tags: { name: "b" } });
    const store = backends.storeFor(KEY_DIR);
    const a = store.keys.get("a");
    const b = store.keys.get("b");
    if (a === undefined || b === undefined) throw new Error("missing key");
    store.keys.set("b", { ...b, versions: a.versions });
    await expectKmsError(engine.generateDataKey({ keyId: "b" }), "BACKEND_ERROR", /corrupt/);
  });

  it("validates the encryption context on both sides", async () => {
    const { engine } = await createFixture();
    await engine.createKey({ tags: { name: "k" } });
    const tooMany = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, "v"]));
    await expectKmsError(
      engine.generateDataKey({ keyId: "k", encryptionContext: tooMany }),
      "INVALID_ARGUMENT",
      /encryption_context/,
    );
    const { ciphertextBlob } = await engine.generateDataKey({ keyId: "k" });
    await expectKmsError(
      engine.decrypt({ ciphertextBlob, encryptionContext: { k: "x".repeat(9000) } }),
      "INVALID_ARGUMENT",
    );
  });
});
