import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { BackendFactory } from "../../src/engine/backend.js";
import { createEngine, type Engine } from "../../src/engine/engine.js";
import type { BackendType, KmsConfigPatch } from "../../src/engine/types.js";
import { expectKmsError } from "../helpers/expect-kms-error.js";
import { createMemoryStateStore } from "../helpers/memory-state-store.js";

/** EngineBackendUnderTest is a configuration for a fresh, empty backend and how to dispose of it. */
export interface EngineBackendUnderTest {
  patch: KmsConfigPatch;
  backends: Partial<Record<BackendType, BackendFactory>>;
  cleanup(): Promise<void>;
}

const DAY_MS = 86_400_000;
const ctx = { bucket: "photos", object: "a/b.jpg" };

/**
 * describeKeyEngineContract runs every key RPC through the engine on one
 * backend — both halves of the backend contract, metadata and custody: state
 * rules, rotation, encryption-context binding, deletion, listing and paging.
 * The same cases run on the local backend (engine custody) and on Vault
 * (Transit custody), so the two cannot drift apart.
 */
export function describeKeyEngineContract(
  name: string,
  makeBackend: () => Promise<EngineBackendUnderTest>,
): void {
  describe(`key contract through the engine: ${name}`, () => {
    let subject: EngineBackendUnderTest;
    let engine: Engine;
    let now: Date;

    beforeEach(async () => {
      subject = await makeBackend();
      now = new Date("2026-01-01T00:00:00.000Z");
      engine = await createEngine({
        stateStore: createMemoryStateStore(),
        backends: subject.backends,
        defaultKeyDir: "/nonexistent/keys",
        now: () => new Date(now.getTime()),
        sweepIntervalMs: 3_600_000,
      });
      await engine.configure(subject.patch);
      expect((await engine.start()).status).toBe("Running");
    });
    afterEach(async () => {
      await engine.close();
      await subject.cleanup();
    });

    it("creates, describes and lists keys", async () => {
      const made = await engine.createKey({ description: "d", tags: { name: "alpha", env: "t" } });
      expect(made).toMatchObject({ keyId: "alpha", keyState: "Enabled", keyVersion: 1 });
      expect(made.rotationDate).toBeNull();
      const described = await engine.describeKey("alpha");
      expect(described).toMatchObject({ keyId: "alpha", description: "d", keyVersion: 1 });
      expect(described.tags).toEqual({ name: "alpha", env: "t" });
      const uuid = await engine.createKey({});
      expect(uuid.keyId).toMatch(/^[0-9a-f-]{36}$/);
      await expectKmsError(engine.createKey({ tags: { name: "alpha" } }), "KEY_EXISTS");
      await expectKmsError(engine.describeKey("missing"), "KEY_NOT_FOUND");
      await expectKmsError(engine.describeKey("bad/id"), "INVALID_ARGUMENT");
      const page = await engine.listKeys({});
      expect(page.keys.map((k) => k.keyId).sort()).toEqual(["alpha", uuid.keyId].sort());
    });

    it("pages a listing in ascending byte order with an exclusive marker", async () => {
      // "-x" and "x." are not Transit names: the Vault backend escapes them.
      const ids = ["b", "A", "a", "B", "a.b", "a-b", "a_b", "0", "z9", "-x", "x."];
      for (const id of ids) await engine.createKey({ tags: { name: id } });
      const expected = [...ids].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
      const seen: string[] = [];
      let marker: string | undefined;
      for (let i = 0; i < 20; i++) {
        const page = await engine.listKeys({ limit: 3, marker });
        seen.push(...page.keys.map((k) => k.keyId));
        if (!page.truncated) {
          expect(page.nextMarker).toBeNull();
          break;
        }
        expect(page.nextMarker).toBe(page.keys.at(-1)?.keyId);
        marker = page.nextMarker ?? undefined;
      }
      expect(seen).toEqual(expected);
      expect((await engine.listKeys({ limit: 0 })).keys).toEqual([]);
    });

    it("wraps and unwraps data keys with the encryption context bound", async () => {
      await engine.createKey({ tags: { name: "dk" } });
      const dk = await engine.generateDataKey({ keyId: "dk", encryptionContext: ctx });
      expect(dk.plaintextKey).toHaveLength(32);
      expect(Buffer.from(dk.ciphertextBlob).includes(Buffer.from(dk.plaintextKey))).toBe(false);
      const back = await engine.decrypt({
        ciphertextBlob: dk.ciphertextBlob,
        encryptionContext: { object: "a/b.jpg", bucket: "photos" },
      });
      expect(Buffer.from(back.plaintextKey)).toEqual(Buffer.from(dk.plaintextKey));
      expect(back.keyId).toBe("dk");
      const wrongs: Record<string, string>[] = [
        {},
        { bucket: "photos" },
        { ...ctx, extra: "x" },
        { ...ctx, bucket: "p" },
      ];
      for (const wrong of wrongs) {
        await expectKmsError(
          engine.decrypt({ ciphertextBlob: dk.ciphertextBlob, encryptionContext: wrong }),
          "INVALID_CIPHERTEXT",
        );
      }
      const short = await engine.generateDataKey({ keyId: "dk", keySpec: "AES_128" });
      expect(short.plaintextKey).toHaveLength(16);
      const again = await engine.generateDataKey({ keyId: "dk", encryptionContext: ctx });
      expect(Buffer.from(again.plaintextKey)).not.toEqual(Buffer.from(dk.plaintextKey));
      expect(Buffer.from(again.ciphertextBlob)).not.toEqual(Buffer.from(dk.ciphertextBlob));
      const bare = await engine.generateDataKeyWithoutPlaintext({ keyId: "dk" });
      expect(
        (await engine.decrypt({ ciphertextBlob: bare.ciphertextBlob })).plaintextKey,
      ).toHaveLength(32);
    });

    it("makes data keys of number_of_bytes 1-1024 that decrypt to the same bytes", async () => {
      await engine.createKey({ tags: { name: "nb" } });
      for (const numberOfBytes of [1, 17, 64, 1024]) {
        const dk = await engine.generateDataKey({
          keyId: "nb",
          numberOfBytes,
          encryptionContext: ctx,
        });
        expect(dk.plaintextKey).toHaveLength(numberOfBytes);
        const back = await engine.decrypt({
          ciphertextBlob: dk.ciphertextBlob,
          encryptionContext: ctx,
        });
        expect(Buffer.from(back.plaintextKey)).toEqual(Buffer.from(dk.plaintextKey));
        const bare = await engine.generateDataKeyWithoutPlaintext({ keyId: "nb", numberOfBytes });
        expect(
          (await engine.decrypt({ ciphertextBlob: bare.ciphertextBlob })).plaintextKey,
        ).toHaveLength(numberOfBytes);
      }
      for (const numberOfBytes of [0, 1025, 1.5, -1, Number.NaN, "8" as unknown as number]) {
        await expectKmsError(
          engine.generateDataKey({ keyId: "nb", numberOfBytes }),
          "INVALID_ARGUMENT",
          /number_of_bytes/,
        );
        await expectKmsError(
          engine.generateDataKeyWithoutPlaintext({ keyId: "nb", numberOfBytes }),
          "INVALID_ARGUMENT",
        );
      }
      await expectKmsError(
        engine.generateDataKey({ keyId: "nb", numberOfBytes: 32, keySpec: "AES_256" }),
        "INVALID_ARGUMENT",
        /not both/,
      );
    });

    it("refuses tampered and foreign ciphertexts with one opaque error", async () => {
      await engine.createKey({ tags: { name: "t1" } });
      await engine.createKey({ tags: { name: "t2" } });
      const dk = await engine.generateDataKey({ keyId: "t1" });
      const blob = Buffer.from(dk.ciphertextBlob);
      const flipped = Buffer.from(blob);
      flipped[flipped.length - 3] = (flipped[flipped.length - 3] as number) ^ 1;
      const errors = [
        await engine.decrypt({ ciphertextBlob: flipped }).catch((e: Error) => e),
        await engine
          .decrypt({ ciphertextBlob: blob.subarray(0, blob.length - 1) })
          .catch((e: Error) => e),
      ];
      for (const e of errors) expect(e).toMatchObject({ code: "INVALID_CIPHERTEXT" });
      // The same blob claiming to be under another key fails too.
      const moved = Buffer.from(blob);
      moved.write("t2", 6, "latin1");
      await expectKmsError(engine.decrypt({ ciphertextBlob: moved }), "INVALID_CIPHERTEXT");
      await expectKmsError(
        engine.decrypt({ ciphertextBlob: Buffer.from("garbage") }),
        "INVALID_CIPHERTEXT",
      );
    });

    it("encrypts, decrypts and re-encrypts caller data", async () => {
      await engine.createKey({ tags: { name: "e1" } });
      await engine.createKey({ tags: { name: "e2" } });
      const data = Buffer.from("hello vault");
      const wrapped = await engine.encrypt({
        keyId: "e1",
        plaintext: data,
        encryptionContext: ctx,
      });
      const re = await engine.reEncrypt({
        ciphertextBlob: wrapped.ciphertextBlob,
        encryptionContext: ctx,
        destinationKeyId: "e2",
        destinationEncryptionContext: { other: "ctx" },
      });
      expect(re).toMatchObject({ keyId: "e2", sourceKeyId: "e1" });
      const out = await engine.decrypt({
        ciphertextBlob: re.ciphertextBlob,
        encryptionContext: { other: "ctx" },
      });
      expect(Buffer.from(out.plaintextKey).toString()).toBe("hello vault");
      expect(out.keyId).toBe("e2");
    });

    it("rotates: new wraps use the new version, old ciphertexts still decrypt", async () => {
      await engine.createKey({ tags: { name: "rot" } });
      const before = await engine.generateDataKey({ keyId: "rot", encryptionContext: ctx });
      now = new Date(now.getTime() + 1000);
      const rotated = await engine.rotateKey("rot");
      expect(rotated.keyVersion).toBe(2);
      expect(rotated.rotationDate?.toISOString()).toBe(now.toISOString());
      const after = await engine.generateDataKey({ keyId: "rot", encryptionContext: ctx });
      expect((await engine.describeKey("rot")).keyVersion).toBe(2);
      for (const dk of [before, after]) {
        const back = await engine.decrypt({
          ciphertextBlob: dk.ciphertextBlob,
          encryptionContext: ctx,
        });
        expect(Buffer.from(back.plaintextKey)).toEqual(Buffer.from(dk.plaintextKey));
      }
      const re = await engine.reEncrypt({
        ciphertextBlob: before.ciphertextBlob,
        encryptionContext: ctx,
      });
      expect(re.keyId).toBe("rot");
    });

    it("enforces the state rules", async () => {
      await engine.createKey({ tags: { name: "st" } });
      const dk = await engine.generateDataKey({ keyId: "st" });
      expect((await engine.disableKey("st")).keyState).toBe("Disabled");
      expect((await engine.disableKey("st")).keyState).toBe("Disabled");
      await expectKmsError(engine.generateDataKey({ keyId: "st" }), "INVALID_KEY_STATE");
      await expectKmsError(
        engine.decrypt({ ciphertextBlob: dk.ciphertextBlob }),
        "INVALID_KEY_STATE",
      );
      await expectKmsError(
        engine.encrypt({ keyId: "st", plaintext: Buffer.from("x") }),
        "INVALID_KEY_STATE",
      );
      await expectKmsError(engine.rotateKey("st"), "INVALID_KEY_STATE");
      expect((await engine.enableKey("st")).keyState).toBe("Enabled");
      await engine.decrypt({ ciphertextBlob: dk.ciphertextBlob });

      const pending = await engine.scheduleKeyDeletion("st", 7);
      expect(pending.keyState).toBe("PendingDeletion");
      expect(pending.deletionDate?.getTime()).toBe(now.getTime() + 7 * DAY_MS);
      await expectKmsError(engine.scheduleKeyDeletion("st", 7), "INVALID_KEY_STATE");
      await expectKmsError(
        engine.decrypt({ ciphertextBlob: dk.ciphertextBlob }),
        "INVALID_KEY_STATE",
      );
      await expectKmsError(engine.enableKey("st"), "INVALID_KEY_STATE");
      await expectKmsError(engine.tagKey("st", { a: "b" }), "INVALID_KEY_STATE");
      await expectKmsError(engine.scheduleKeyDeletion("st", 6), "INVALID_ARGUMENT");
      expect((await engine.cancelKeyDeletion("st")).keyState).toBe("Enabled");
      await expectKmsError(engine.cancelKeyDeletion("st"), "INVALID_KEY_STATE");
      await engine.decrypt({ ciphertextBlob: dk.ciphertextBlob });
    });

    it("updates description and tags, keeping the name tag", async () => {
      await engine.createKey({ description: "one", tags: { name: "tg", a: "1" } });
      expect((await engine.updateKeyDescription("tg", "two")).description).toBe("two");
      expect((await engine.tagKey("tg", { b: "2" })).tags).toEqual({ name: "tg", a: "1", b: "2" });
      expect((await engine.untagKey("tg", ["a"])).tags).toEqual({ name: "tg", b: "2" });
      await expectKmsError(engine.tagKey("tg", { name: "other" }), "INVALID_ARGUMENT");
      await engine.clearCache();
      expect((await engine.describeKey("tg")).tags).toEqual({ name: "tg", b: "2" });
      expect((await engine.describeKey("tg")).description).toBe("two");
    });

    it("destroys a key after its deletion date, for good", async () => {
      await engine.createKey({ tags: { name: "gone" } });
      await engine.createKey({ tags: { name: "kept" } });
      const dk = await engine.generateDataKey({ keyId: "gone" });
      await engine.scheduleKeyDeletion("gone", 7);
      now = new Date(now.getTime() + 7 * DAY_MS + 1);
      expect(await engine.runDeletionSweep()).toBe(1);
      await expectKmsError(engine.describeKey("gone"), "KEY_NOT_FOUND");
      await expectKmsError(
        engine.decrypt({ ciphertextBlob: dk.ciphertextBlob }),
        "INVALID_CIPHERTEXT",
      );
      expect((await engine.listKeys({})).keys.map((k) => k.keyId)).toEqual(["kept"]);
      // The id is free again, and the new key cannot open the old key's blobs.
      await engine.createKey({ tags: { name: "gone" } });
      await expectKmsError(
        engine.decrypt({ ciphertextBlob: dk.ciphertextBlob }),
        "INVALID_CIPHERTEXT",
      );
    });

    it("creates, updates, resolves, lists and deletes aliases by AWS's rules", async () => {
      await engine.createKey({ tags: { name: "one" } });
      await engine.createKey({ tags: { name: "two" } });
      const made = await engine.createAlias("alias/app/photos", "one");
      expect(made).toEqual({
        aliasName: "alias/app/photos",
        targetKeyId: "one",
        creationDate: now,
        lastUpdatedDate: now,
      });
      expect(await engine.resolveAlias("alias/app/photos")).toBe("one");
      await expectKmsError(
        engine.createAlias("alias/app/photos", "two"),
        "KEY_EXISTS",
        /alias "alias\/app\/photos" already exists/,
      );
      // A Disabled key may be named; an unknown one may not.
      await engine.disableKey("two");
      await engine.createAlias("alias/second", "two");
      await expectKmsError(engine.createAlias("alias/third", "nope"), "KEY_NOT_FOUND");
      for (const bad of ["app", "alias/", "alias/a.b", "alias/é", `alias/${"x".repeat(251)}`]) {
        await expectKmsError(engine.createAlias(bad, "one"), "INVALID_ARGUMENT");
      }
      await expectKmsError(
        engine.createAlias("alias/aws/s3", "one"),
        "INVALID_ARGUMENT",
        /reserved/,
      );
      await expectKmsError(engine.createAlias("alias/x", "bad/id"), "INVALID_ARGUMENT");

      now = new Date(now.getTime() + 1000);
      const moved = await engine.updateAlias("alias/app/photos", "two");
      expect(moved.targetKeyId).toBe("two");
      expect(moved.creationDate.getTime()).toBe(now.getTime() - 1000);
      expect(moved.lastUpdatedDate.getTime()).toBe(now.getTime());
      expect(await engine.resolveAlias("alias/app/photos")).toBe("two");
      await expectKmsError(
        engine.updateAlias("alias/none", "one"),
        "KEY_NOT_FOUND",
        /alias "alias\/none"/,
      );
      await expectKmsError(engine.updateAlias("alias/app/photos", "nope"), "KEY_NOT_FOUND");
      await expectKmsError(engine.resolveAlias("alias/none"), "KEY_NOT_FOUND", /alias\/none/);
      await expectKmsError(engine.resolveAlias("alias/aws/s3"), "KEY_NOT_FOUND");

      const all = await engine.listAliases({});
      expect(all.aliases.map((a) => a.aliasName)).toEqual(["alias/app/photos", "alias/second"]);
      expect(all).toMatchObject({ truncated: false, nextMarker: null });
      const ofOne = await engine.listAliases({ keyId: "one" });
      expect(ofOne.aliases).toEqual([]);
      const ofTwo = await engine.listAliases({ keyId: "two" });
      expect(ofTwo.aliases.map((a) => a.aliasName)).toEqual(["alias/app/photos", "alias/second"]);
      await expectKmsError(engine.listAliases({ keyId: "nope" }), "KEY_NOT_FOUND");
      for (const limit of [0, 1001, 1.5]) {
        await expectKmsError(engine.listAliases({ limit }), "INVALID_ARGUMENT");
      }

      await engine.deleteAlias("alias/second");
      await expectKmsError(engine.deleteAlias("alias/second"), "KEY_NOT_FOUND", /alias\/second/);
      await expectKmsError(engine.deleteAlias("alias/aws/x"), "INVALID_ARGUMENT");
      await expectKmsError(engine.resolveAlias("alias/second"), "KEY_NOT_FOUND");
      expect((await engine.describeKey("two")).keyState).toBe("Disabled");
    });

    it("pages aliases with a marker, also filtered by key", async () => {
      await engine.createKey({ tags: { name: "p" } });
      await engine.createKey({ tags: { name: "q" } });
      const names = Array.from({ length: 9 }, (_, i) => `alias/n${i}`);
      for (const [i, name] of names.entries())
        await engine.createAlias(name, i % 3 === 0 ? "p" : "q");
      const walk = async (keyId?: string) => {
        const seen: string[] = [];
        let marker: string | undefined;
        for (let i = 0; i < 20; i++) {
          const page = await engine.listAliases({ keyId, limit: 2, marker });
          expect(page.aliases.length).toBeLessThanOrEqual(2);
          seen.push(...page.aliases.map((a) => a.aliasName));
          if (!page.truncated) {
            expect(page.nextMarker).toBeNull();
            return seen;
          }
          marker = page.nextMarker ?? undefined;
        }
        throw new Error("no last page");
      };
      expect(await walk()).toEqual(names);
      expect(await walk("p")).toEqual(["alias/n0", "alias/n3", "alias/n6"]);
      expect(await walk("q")).toHaveLength(6);
    });

    it("refuses aliases for a key pending deletion, and deletes a key's aliases with it", async () => {
      await engine.createKey({ tags: { name: "doomed" } });
      await engine.createKey({ tags: { name: "other" } });
      await engine.createAlias("alias/d1", "doomed");
      await engine.createAlias("alias/d2", "doomed");
      await engine.createAlias("alias/o1", "other");
      await engine.scheduleKeyDeletion("doomed", 7);
      const refused = await expectKmsError(
        engine.createAlias("alias/d3", "doomed"),
        "INVALID_KEY_STATE",
      );
      expect(refused.keyState).toBe("PendingDeletion");
      const moved = await expectKmsError(
        engine.updateAlias("alias/o1", "doomed"),
        "INVALID_KEY_STATE",
      );
      expect(moved.keyState).toBe("PendingDeletion");
      // Pending deletion, its aliases still resolve (describe works on such a key).
      expect(await engine.resolveAlias("alias/d1")).toBe("doomed");
      now = new Date(now.getTime() + 7 * DAY_MS + 1);
      expect(await engine.runDeletionSweep()).toBe(1);
      await expectKmsError(engine.resolveAlias("alias/d1"), "KEY_NOT_FOUND");
      expect((await engine.listAliases({})).aliases.map((a) => a.aliasName)).toEqual(["alias/o1"]);
      // The name can be a new key, which the old aliases never named.
      await engine.createKey({ tags: { name: "doomed" } });
      await expectKmsError(engine.resolveAlias("alias/d2"), "KEY_NOT_FOUND");
      // destroyKeyNow deletes aliases too.
      await engine.destroyKeyNow("other");
      expect((await engine.listAliases({})).aliases).toEqual([]);
    });

    it("sets keyState on every INVALID_KEY_STATE", async () => {
      await engine.createKey({ tags: { name: "ks" } });
      await engine.disableKey("ks");
      const disabled = await expectKmsError(
        engine.generateDataKey({ keyId: "ks" }),
        "INVALID_KEY_STATE",
      );
      expect(disabled.keyState).toBe("Disabled");
      expect((await expectKmsError(engine.rotateKey("ks"), "INVALID_KEY_STATE")).keyState).toBe(
        "Disabled",
      );
      expect(
        (await expectKmsError(engine.cancelKeyDeletion("ks"), "INVALID_KEY_STATE")).keyState,
      ).toBe("Disabled");
      await engine.scheduleKeyDeletion("ks", 7);
      for (const call of [
        () => engine.enableKey("ks"),
        () => engine.scheduleKeyDeletion("ks", 7),
        () => engine.encrypt({ keyId: "ks", plaintext: Buffer.from("x") }),
      ]) {
        expect((await expectKmsError(call(), "INVALID_KEY_STATE")).keyState).toBe(
          "PendingDeletion",
        );
      }
    });

    it("refuses key operations once stopped, and serves again after a restart", async () => {
      await engine.createKey({ tags: { name: "rs" } });
      const dk = await engine.generateDataKey({ keyId: "rs" });
      await engine.stop();
      await expectKmsError(engine.describeKey("rs"), "NOT_RUNNING");
      await expectKmsError(engine.resolveAlias("alias/rs"), "NOT_RUNNING");
      await engine.start();
      await engine.createAlias("alias/rs", "rs");
      await engine.stop();
      await engine.start();
      expect(await engine.resolveAlias("alias/rs")).toBe("rs");
      const back = await engine.decrypt({ ciphertextBlob: dk.ciphertextBlob });
      expect(Buffer.from(back.plaintextKey)).toEqual(Buffer.from(dk.plaintextKey));
      expect((await engine.status()).healthy).toBe(true);
    });
  });
}
