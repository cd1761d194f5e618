import { describe, expect, it } from "vitest";
import { parseEnvelope } from "../../src/engine/envelope.js";
import { MAX_KEY_VERSIONS } from "../../src/engine/key-lifecycle-operations.js";
import { createFixture, type EngineFixture, expectKmsError, KEY_DIR } from "./engine-fixture.js";

// The key lifecycle operations of issue 7 on the engine: enable / disable,
// rotation and versions, description and tags with their bounds, encrypt,
// re-encrypt and wrapped-only data keys. The state × operation matrix runs
// over REST and gRPC in test/e2e/key-state-matrix.test.ts.

async function withKey(name = "k"): Promise<EngineFixture> {
  const f = await createFixture();
  await f.engine.createKey({ description: "d", tags: { name, team: "a" } });
  return f;
}

const versionOf = (blob: Uint8Array) => parseEnvelope(blob).keyVersion;

describe("enableKey and disableKey", () => {
  it("switch the state, are idempotent, and an idempotent call writes nothing", async () => {
    const f = await withKey();
    const store = f.backends.storeFor(KEY_DIR);
    store.calls.clear();
    expect((await f.engine.enableKey("k")).keyState).toBe("Enabled");
    expect(store.calls.get("put")).toBeUndefined();
    const disabled = await f.engine.disableKey("k");
    expect(disabled.keyState).toBe("Disabled");
    expect(store.calls.get("put")).toBe(1);
    expect((await f.engine.disableKey("k")).keyState).toBe("Disabled");
    expect(store.calls.get("put")).toBe(1);
    expect(store.keys.get("k")?.keyState).toBe("Disabled");
    expect((await f.engine.enableKey("k")).keyState).toBe("Enabled");
    expect(store.keys.get("k")?.keyState).toBe("Enabled");
  });

  it("are visible to the very next request with the cache on", async () => {
    const f = await withKey();
    const { ciphertextBlob } = await f.engine.generateDataKey({ keyId: "k" });
    await f.engine.disableKey("k");
    await expectKmsError(f.engine.decrypt({ ciphertextBlob }), "INVALID_KEY_STATE", /Disabled/);
    expect((await f.engine.listKeys({})).keys[0]?.keyState).toBe("Disabled");
    await f.engine.enableKey("k");
    expect((await f.engine.decrypt({ ciphertextBlob })).keyId).toBe("k");
  });

  it("cancel-deletion restores Disabled when the key was Disabled before", async () => {
    const f = await withKey();
    await f.engine.disableKey("k");
    await f.engine.scheduleKeyDeletion("k", 7);
    await expectKmsError(f.engine.enableKey("k"), "INVALID_KEY_STATE", /PendingDeletion/);
    await expectKmsError(f.engine.disableKey("k"), "INVALID_KEY_STATE", /PendingDeletion/);
    const restored = await f.engine.cancelKeyDeletion("k");
    expect(restored).toMatchObject({ keyState: "Disabled", deletionDate: null });
  });

  it("answer KEY_NOT_FOUND and INVALID_ARGUMENT for unknown and invalid ids", async () => {
    const f = await withKey();
    await expectKmsError(f.engine.enableKey("nope"), "KEY_NOT_FOUND");
    await expectKmsError(f.engine.disableKey("bad/id"), "INVALID_ARGUMENT");
  });
});

describe("rotateKey", () => {
  it("adds a version, new wraps use it, and every older ciphertext still decrypts", async () => {
    const f = await withKey();
    const blobs = [await f.engine.generateDataKey({ keyId: "k", encryptionContext: { v: "1" } })];
    const created = await f.engine.describeKey("k");
    expect(created).toMatchObject({ keyVersion: 1, rotationDate: null });
    for (const version of [2, 3]) {
      f.now = new Date(f.now.getTime() + 60_000);
      const rotated = await f.engine.rotateKey("k");
      expect(rotated).toMatchObject({ keyVersion: version, rotationDate: f.now });
      expect(rotated.creationDate).toEqual(created.creationDate);
      blobs.push(
        await f.engine.generateDataKey({ keyId: "k", encryptionContext: { v: `${version}` } }),
      );
    }
    expect(blobs.map((b) => versionOf(b.ciphertextBlob))).toEqual([1, 2, 3]);
    for (const [i, blob] of blobs.entries()) {
      const opened = await f.engine.decrypt({
        ciphertextBlob: blob.ciphertextBlob,
        encryptionContext: { v: `${i + 1}` },
      });
      expect(Buffer.from(opened.plaintextKey)).toEqual(Buffer.from(blob.plaintextKey));
    }
    // And after a restart of the engine over the same backend.
    await f.reopen();
    expect((await f.engine.describeKey("k")).keyVersion).toBe(3);
    for (const [i, blob] of blobs.entries()) {
      const opened = await f.engine.decrypt({
        ciphertextBlob: blob.ciphertextBlob,
        encryptionContext: { v: `${i + 1}` },
      });
      expect(Buffer.from(opened.plaintextKey)).toEqual(Buffer.from(blob.plaintextKey));
    }
  });

  it("makes fresh material: the versions' sealed material all differ", async () => {
    const f = await withKey();
    await f.engine.rotateKey("k");
    await f.engine.rotateKey("k");
    const versions = f.backends.storeFor(KEY_DIR).keys.get("k")?.versions ?? [];
    expect(versions.map((v) => v.version)).toEqual([1, 2, 3]);
    const sealed = new Set(versions.map((v) => Buffer.from(v.sealedMaterial).toString("hex")));
    expect(sealed.size).toBe(3);
  });

  it("refuses Disabled and PendingDeletion keys, naming the state", async () => {
    const f = await withKey();
    await f.engine.disableKey("k");
    await expectKmsError(f.engine.rotateKey("k"), "INVALID_KEY_STATE", /"k" is Disabled/);
    await f.engine.enableKey("k");
    await f.engine.scheduleKeyDeletion("k", 7);
    await expectKmsError(f.engine.rotateKey("k"), "INVALID_KEY_STATE", /"k" is PendingDeletion/);
    expect(f.backends.storeFor(KEY_DIR).keys.get("k")?.versions).toHaveLength(1);
  });

  it(`stops at ${MAX_KEY_VERSIONS} versions with a 400 naming the bound`, async () => {
    const f = await withKey();
    const store = f.backends.storeFor(KEY_DIR);
    const key = store.keys.get("k");
    if (key === undefined) throw new Error("missing key");
    // Versions beyond the first are never opened here: only the count matters.
    const last = key.versions[0];
    if (last === undefined) throw new Error("no version");
    const versions = Array.from({ length: MAX_KEY_VERSIONS }, (_, i) => ({
      ...last,
      version: i + 1,
    }));
    store.keys.set("k", { ...key, versions });
    f.engine.clearCache();
    await expectKmsError(
      f.engine.rotateKey("k"),
      "INVALID_ARGUMENT",
      new RegExp(`limit of ${MAX_KEY_VERSIONS} versions`),
    );
  });
});

describe("updateKeyDescription", () => {
  it("replaces the description, up to 8 KiB, and requires one", async () => {
    const f = await withKey();
    expect((await f.engine.updateKeyDescription("k", "new")).description).toBe("new");
    expect((await f.engine.describeKey("k")).description).toBe("new");
    expect((await f.engine.updateKeyDescription("k", "")).description).toBe("");
    const max = "x".repeat(8192);
    expect((await f.engine.updateKeyDescription("k", max)).description).toBe(max);
    await expectKmsError(
      f.engine.updateKeyDescription("k", `${max}x`),
      "INVALID_ARGUMENT",
      /at most 8192 characters/,
    );
    await expectKmsError(
      f.engine.updateKeyDescription("k", undefined),
      "INVALID_ARGUMENT",
      /description is required/,
    );
    expect((await f.engine.describeKey("k")).description).toBe(max);
  });
});

describe("tagKey and untagKey", () => {
  it("merge and remove tags; the name tag can be restated but not changed or removed", async () => {
    const f = await withKey();
    const tagged = await f.engine.tagKey("k", { team: "b", env: "prod", name: "k" });
    expect(tagged.tags).toEqual({ name: "k", team: "b", env: "prod" });
    await expectKmsError(
      f.engine.tagKey("k", { name: "other" }),
      "INVALID_ARGUMENT",
      /name tag cannot be changed/,
    );
    await expectKmsError(
      f.engine.untagKey("k", ["env", "name"]),
      "INVALID_ARGUMENT",
      /name tag cannot be removed/,
    );
    expect((await f.engine.describeKey("k")).tags).toEqual({ name: "k", team: "b", env: "prod" });
    const untagged = await f.engine.untagKey("k", ["env", "absent"]);
    expect(untagged.tags).toEqual({ name: "k", team: "b" });
  });

  it("do not let a key made without a name tag acquire one", async () => {
    const f = await createFixture();
    const { keyId } = await f.engine.createKey({});
    await expectKmsError(
      f.engine.tagKey(keyId, { name: keyId }),
      "INVALID_ARGUMENT",
      /name tag cannot be changed/,
    );
  });

  it("keep a tag named __proto__ as a tag", async () => {
    const f = await withKey();
    const tags = JSON.parse('{"__proto__":"x"}') as Record<string, string>;
    const tagged = await f.engine.tagKey("k", tags);
    expect(Object.hasOwn(tagged.tags, "__proto__")).toBe(true);
    expect(Object.hasOwn((await f.engine.untagKey("k", ["__proto__"])).tags, "__proto__")).toBe(
      false,
    );
  });

  it("refuse what exceeds the bounds, naming the bound, and change nothing", async () => {
    const f = await withKey();
    const many = Object.fromEntries(Array.from({ length: 48 }, (_, i) => [`t${i}`, "v"]));
    expect(Object.keys((await f.engine.tagKey("k", many)).tags)).toHaveLength(50);
    await expectKmsError(
      f.engine.tagKey("k", { one: "more" }),
      "INVALID_ARGUMENT",
      /at most 50 tags/,
    );
    await expectKmsError(
      f.engine.tagKey("k", { ...many, a: "1", b: "2", c: "3" }),
      "INVALID_ARGUMENT",
      /at most 50 entries/,
    );
    await expectKmsError(
      f.engine.tagKey("k", { ["x".repeat(129)]: "v" }),
      "INVALID_ARGUMENT",
      /1-128 characters/,
    );
    await expectKmsError(
      f.engine.tagKey("k", { t0: "v".repeat(257) }),
      "INVALID_ARGUMENT",
      /at most 256 characters/,
    );
    await expectKmsError(f.engine.tagKey("k", {}), "INVALID_ARGUMENT", /at least one tag/);
    await expectKmsError(f.engine.untagKey("k", []), "INVALID_ARGUMENT", /at least one tag/);
    await expectKmsError(
      f.engine.untagKey(
        "k",
        Array.from({ length: 51 }, (_, i) => `t${i}`),
      ),
      "INVALID_ARGUMENT",
      /at most 50 entries/,
    );
    expect(Object.keys((await f.engine.describeKey("k")).tags)).toHaveLength(50);
    // At the bounds exactly: accepted.
    await f.engine.untagKey("k", ["t0"]);
    const edge = await f.engine.tagKey("k", { ["x".repeat(128)]: "v".repeat(256) });
    expect(Object.keys(edge.tags)).toHaveLength(50);
  });
});

describe("encrypt, reEncrypt and generateDataKeyWithoutPlaintext", () => {
  it("encrypt wraps 1..4096 bytes that decrypt gives back, and refuses more or none", async () => {
    const f = await withKey();
    const plaintext = new Uint8Array(4096).fill(7);
    const wrapped = await f.engine.encrypt({
      keyId: "k",
      plaintext,
      encryptionContext: { bucket: "b" },
    });
    expect(wrapped.keyId).toBe("k");
    const opened = await f.engine.decrypt({
      ciphertextBlob: wrapped.ciphertextBlob,
      encryptionContext: { bucket: "b" },
    });
    expect(Buffer.from(opened.plaintextKey)).toEqual(Buffer.from(plaintext));
    await expectKmsError(
      f.engine.decrypt({ ciphertextBlob: wrapped.ciphertextBlob }),
      "INVALID_CIPHERTEXT",
    );
    await expectKmsError(
      f.engine.encrypt({ keyId: "k", plaintext: new Uint8Array(4097) }),
      "INVALID_ARGUMENT",
      /at most 4096 bytes/,
    );
    await expectKmsError(
      f.engine.encrypt({ keyId: "k", plaintext: new Uint8Array(0) }),
      "INVALID_ARGUMENT",
      /plaintext is required/,
    );
  });

  it("encrypt refuses an encryption context over 64 entries or 8 KiB", async () => {
    const f = await withKey();
    const plaintext = new Uint8Array([1]);
    const entries = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, "v"]));
    await expectKmsError(
      f.engine.encrypt({ keyId: "k", plaintext, encryptionContext: entries }),
      "INVALID_ARGUMENT",
      /at most 64 entries/,
    );
    await expectKmsError(
      f.engine.encrypt({ keyId: "k", plaintext, encryptionContext: { big: "x".repeat(8192) } }),
      "INVALID_ARGUMENT",
      /at most 8192 bytes/,
    );
  });

  it("generateDataKeyWithoutPlaintext gives a blob that decrypts to a fresh key", async () => {
    const f = await withKey();
    const wrapped = await f.engine.generateDataKeyWithoutPlaintext({
      keyId: "k",
      keySpec: "AES_128",
    });
    expect(Object.keys(wrapped).sort()).toEqual(["ciphertextBlob", "keyId"]);
    const opened = await f.engine.decrypt({ ciphertextBlob: wrapped.ciphertextBlob });
    expect(opened.plaintextKey).toHaveLength(16);
  });

  it("reEncrypt moves a blob to the newest version, or to another key and context", async () => {
    const f = await withKey();
    await f.engine.createKey({ tags: { name: "other" } });
    const original = await f.engine.generateDataKey({ keyId: "k", encryptionContext: { a: "1" } });
    await f.engine.rotateKey("k");
    const same = await f.engine.reEncrypt({
      ciphertextBlob: original.ciphertextBlob,
      encryptionContext: { a: "1" },
      destinationEncryptionContext: { a: "1" },
    });
    expect(same).toMatchObject({ keyId: "k", sourceKeyId: "k" });
    expect(versionOf(same.ciphertextBlob)).toBe(2);
    const moved = await f.engine.reEncrypt({
      ciphertextBlob: same.ciphertextBlob,
      encryptionContext: { a: "1" },
      destinationKeyId: "other",
      destinationEncryptionContext: { b: "2" },
    });
    expect(moved).toMatchObject({ keyId: "other", sourceKeyId: "k" });
    const opened = await f.engine.decrypt({
      ciphertextBlob: moved.ciphertextBlob,
      encryptionContext: { b: "2" },
    });
    expect(Buffer.from(opened.plaintextKey)).toEqual(Buffer.from(original.plaintextKey));
    // A wrong source context stays opaque; a missing destination is 404.
    await expectKmsError(
      f.engine.reEncrypt({ ciphertextBlob: original.ciphertextBlob }),
      "INVALID_CIPHERTEXT",
    );
    await expectKmsError(
      f.engine.reEncrypt({
        ciphertextBlob: original.ciphertextBlob,
        encryptionContext: { a: "1" },
        destinationKeyId: "nope",
      }),
      "KEY_NOT_FOUND",
    );
    await expectKmsError(
      f.engine.reEncrypt({
        ciphertextBlob: original.ciphertextBlob,
        encryptionContext: { a: "1" },
        destinationEncryptionContext: Object.fromEntries(
          Array.from({ length: 65 }, (_, i) => [`k${i}`, "v"]),
        ),
      }),
      "INVALID_ARGUMENT",
      /^destination_encryption_context must have at most 64 entries/,
    );
  });

  it("reEncrypt refuses a Disabled destination or source, naming the state", async () => {
    const f = await withKey();
    await f.engine.createKey({ tags: { name: "other" } });
    const blob = (await f.engine.generateDataKey({ keyId: "k" })).ciphertextBlob;
    await f.engine.disableKey("other");
    await expectKmsError(
      f.engine.reEncrypt({ ciphertextBlob: blob, destinationKeyId: "other" }),
      "INVALID_KEY_STATE",
      /"other" is Disabled: ReEncrypt/,
    );
    await f.engine.disableKey("k");
    await expectKmsError(
      f.engine.reEncrypt({ ciphertextBlob: blob }),
      "INVALID_KEY_STATE",
      /"k" is Disabled: ReEncrypt/,
    );
  });
});
