import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { KeyBackend, StoredKey } from "../../src/engine/backend.js";
import { isKmsError } from "../../src/engine/errors.js";
import { expectKmsError } from "../helpers/expect-kms-error.js";

/** BackendUnderTest is one fresh, empty backend and how to dispose of it. */
export interface BackendUnderTest {
  backend: KeyBackend;
  cleanup(): Promise<void>;
}

/** sampleKey builds a StoredKey with two versions, tags and every nullable field set. */
export function sampleKey(keyId: string, overrides: Partial<StoredKey> = {}): StoredKey {
  return {
    keyId,
    description: `key ${keyId}`,
    keyState: "Enabled",
    stateBeforeDeletion: null,
    creationDate: new Date("2026-01-02T03:04:05.678Z"),
    deletionDate: null,
    tags: { name: keyId, env: "test", "ünïcode ✓": "värde 🔑" },
    versions: [
      {
        version: 1,
        sealedMaterial: Uint8Array.from({ length: 60 }, (_, i) => (i * 7 + keyId.length) % 256),
        createdAt: new Date("2026-01-02T03:04:05.678Z"),
      },
      {
        version: 2,
        sealedMaterial: Uint8Array.from({ length: 61 }, (_, i) => (255 - i) % 256),
        createdAt: new Date("2026-02-03T04:05:06.789Z"),
      },
    ],
    ...overrides,
  };
}

export { expectKmsError };

/** byteOrder sorts strings by their UTF-8 bytes, independently of the code under test. */
function byteOrder(ids: string[]): string[] {
  return [...ids].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/** The 250 ids the paging tests use: case-only variants, `.`, `_`, `-`, digits, 128 characters. */
function pagingIds(): string[] {
  const special = [
    "a",
    "A",
    "b",
    "B",
    "ab",
    "aB",
    "Ab",
    "AB",
    "a.b",
    "a_b",
    "a-b",
    "a0",
    "a9",
    "0",
    "9",
    "_",
    "-",
    "-a",
    "_a",
    ".a",
    "z",
    "Z",
    "key.v1",
    "key.V1",
    "x".repeat(128),
    "X".repeat(128),
  ];
  const ids = new Set(special);
  for (let i = 0; ids.size < 250; i++) {
    ids.add(`k${(i * 7919) % 1000}${["", ".x", "_y", "-z", "Q"][i % 5]}`);
  }
  return [...ids];
}

/**
 * describeKeyBackendContract runs the metadata-storage half of the KeyBackend
 * contract (src/engine/backend.ts) against a backend; `makeBackend` must give a
 * fresh, empty one for each test. A backend with its own custody keeps no
 * keyring, so the keyring test runs for engine-custody backends only. The
 * custody half runs through the engine in key-engine-contract.ts.
 */
export function describeKeyBackendContract(
  name: string,
  makeBackend: () => Promise<BackendUnderTest>,
): void {
  describe(`KeyBackend contract: ${name}`, () => {
    let subject: BackendUnderTest;
    let backend: KeyBackend;

    beforeEach(async () => {
      subject = await makeBackend();
      backend = subject.backend;
    });
    afterEach(async () => {
      await subject.cleanup();
    });

    it("is healthy when opened", async () => {
      await expect(backend.health()).resolves.toBeUndefined();
    });

    it("returns null for a key that was never created", async () => {
      expect(await backend.get("never-created")).toBeNull();
    });

    it("stores every field of a key and returns it equal", async () => {
      const key = sampleKey("round-trip", {
        keyState: "PendingDeletion",
        stateBeforeDeletion: "Disabled",
        deletionDate: new Date("2026-03-04T05:06:07.089Z"),
        description: null,
      });
      await backend.create(key);
      const got = await backend.get("round-trip");
      expect(got).not.toBeNull();
      expect(got?.keyId).toBe("round-trip");
      expect(got?.description).toBeNull();
      expect(got?.keyState).toBe("PendingDeletion");
      expect(got?.stateBeforeDeletion).toBe("Disabled");
      expect(got?.creationDate).toBeInstanceOf(Date);
      expect(got?.creationDate.toISOString()).toBe("2026-01-02T03:04:05.678Z");
      expect(got?.deletionDate?.toISOString()).toBe("2026-03-04T05:06:07.089Z");
      expect(got?.tags).toEqual(key.tags);
      expect(got?.versions.map((v) => v.version)).toEqual([1, 2]);
      expect(got?.versions[1]?.createdAt.toISOString()).toBe("2026-02-03T04:05:06.789Z");
      for (const [i, v] of (got?.versions ?? []).entries()) {
        expect(v.sealedMaterial).toBeInstanceOf(Uint8Array);
        expect(Array.from(v.sealedMaterial)).toEqual(
          Array.from(key.versions[i]?.sealedMaterial ?? []),
        );
      }
    });

    it("keeps what it stored apart from the caller's objects", async () => {
      const key = sampleKey("no-alias");
      await backend.create(key);
      key.description = "changed by caller";
      key.tags.env = "changed";
      (key.versions[0] as { sealedMaterial: Uint8Array }).sealedMaterial.fill(0);
      const first = await backend.get("no-alias");
      expect(first?.description).toBe("key no-alias");
      expect(first?.tags.env).toBe("test");
      expect(first?.versions[0]?.sealedMaterial.some((b) => b !== 0)).toBe(true);
      if (first) {
        first.tags.env = "changed again";
        first.versions[0]?.sealedMaterial.fill(0);
      }
      const second = await backend.get("no-alias");
      expect(second?.tags.env).toBe("test");
      expect(second?.versions[0]?.sealedMaterial.some((b) => b !== 0)).toBe(true);
    });

    it("refuses to create a key whose id exists, keeping the original", async () => {
      await backend.create(sampleKey("dup", { description: "first" }));
      await expectKmsError(
        backend.create(sampleKey("dup", { description: "second" })),
        "KEY_EXISTS",
      );
      expect((await backend.get("dup"))?.description).toBe("first");
    });

    it("lets exactly one of many concurrent creates of one id win", async () => {
      const attempts = Array.from({ length: 12 }, (_, i) =>
        backend.create(sampleKey("race", { description: `attempt ${i}` })),
      );
      const results = await Promise.allSettled(attempts);
      const winners = results.flatMap((r, i) => (r.status === "fulfilled" ? [i] : []));
      expect(winners).toHaveLength(1);
      for (const r of results) {
        if (r.status === "rejected") {
          expect(isKmsError(r.reason, "KEY_EXISTS"), String(r.reason)).toBe(true);
        }
      }
      expect((await backend.get("race"))?.description).toBe(`attempt ${winners[0]}`);
    });

    it("creates many different keys concurrently", async () => {
      const ids = Array.from({ length: 40 }, (_, i) => `par-${i}`);
      await Promise.all(ids.map((id) => backend.create(sampleKey(id))));
      expect((await backend.list(null, 1000)).ids).toEqual(byteOrder(ids));
    });

    it("replaces a key with put", async () => {
      await backend.create(sampleKey("upd"));
      const next = sampleKey("upd", {
        description: "updated",
        keyState: "Disabled",
        tags: { only: "this" },
        versions: [
          ...sampleKey("upd").versions,
          { version: 3, sealedMaterial: new Uint8Array([1, 2, 3]), createdAt: new Date(0) },
        ],
      });
      await backend.put(next);
      const got = await backend.get("upd");
      expect(got?.description).toBe("updated");
      expect(got?.keyState).toBe("Disabled");
      expect(got?.tags).toEqual({ only: "this" });
      expect(got?.versions.map((v) => v.version)).toEqual([1, 2, 3]);
      expect(Array.from(got?.versions[2]?.sealedMaterial ?? [])).toEqual([1, 2, 3]);
    });

    it("refuses put of a key that does not exist, and does not create it", async () => {
      await expectKmsError(backend.put(sampleKey("ghost")), "KEY_NOT_FOUND");
      expect(await backend.get("ghost")).toBeNull();
      expect((await backend.list(null, 10)).ids).toEqual([]);
    });

    it("destroys a key for good, idempotently", async () => {
      await backend.create(sampleKey("gone"));
      await backend.create(sampleKey("kept"));
      await backend.destroy("gone");
      expect(await backend.get("gone")).toBeNull();
      expect((await backend.list(null, 10)).ids).toEqual(["kept"]);
      await expect(backend.destroy("gone")).resolves.toBeUndefined();
      await expect(backend.destroy("never-existed")).resolves.toBeUndefined();
      await expectKmsError(backend.put(sampleKey("gone")), "KEY_NOT_FOUND");
      // The id is free again.
      await backend.create(sampleKey("gone", { description: "reborn" }));
      expect((await backend.get("gone"))?.description).toBe("reborn");
    });

    it("lists nothing when empty", async () => {
      expect(await backend.list(null, 100)).toEqual({ ids: [], more: false });
      expect(await backend.list("m", 100)).toEqual({ ids: [], more: false });
    });

    it("pages through 250 ids in ascending byte order", async () => {
      const ids = pagingIds();
      expect(ids).toHaveLength(250);
      for (let i = 0; i < ids.length; i += 25) {
        await Promise.all(ids.slice(i, i + 25).map((id) => backend.create(sampleKey(id))));
      }
      const expected = byteOrder(ids);

      const all = await backend.list(null, 1000);
      expect(all).toEqual({ ids: expected, more: false });

      for (const limit of [1, 7, 100, 249, 250]) {
        const seen: string[] = [];
        let after: string | null = null;
        for (let pages = 0; pages < 300; pages++) {
          const page = await backend.list(after, limit);
          expect(page.ids.length).toBeLessThanOrEqual(limit);
          seen.push(...page.ids);
          if (!page.more) break;
          expect(page.ids.length).toBe(limit);
          after = page.ids.at(-1) ?? null;
        }
        expect(seen, `limit ${limit}`).toEqual(expected);
      }

      // `after` is exclusive and need not be an existing id.
      const iA = expected.indexOf("A");
      expect((await backend.list("A", 3)).ids).toEqual(expected.slice(iA + 1, iA + 4));
      expect((await backend.list("AA", 2)).ids).toEqual(
        expected.filter((id) => Buffer.compare(Buffer.from(id), Buffer.from("AA")) > 0).slice(0, 2),
      );
      expect((await backend.list("", 2)).ids).toEqual(expected.slice(0, 2));
      expect(await backend.list("~", 10)).toEqual({ ids: [], more: false });
      expect(await backend.list(expected.at(-1) ?? "", 10)).toEqual({ ids: [], more: false });
      const lastTwo = await backend.list(expected.at(-3) ?? "", 2);
      expect(lastTwo).toEqual({ ids: expected.slice(-2), more: false });
      const zero = await backend.list(null, 0);
      expect(zero.ids).toEqual([]);
      expect(zero.more).toBe(true);
    });

    it("accepts ids made only of dots, like any other id", async () => {
      for (const id of [".", "..", "..."]) await backend.create(sampleKey(id));
      expect((await backend.list(null, 10)).ids).toEqual([".", "..", "..."]);
      expect((await backend.get(".."))?.keyId).toBe("..");
      await backend.destroy("..");
      expect((await backend.list(null, 10)).ids).toEqual([".", "..."]);
    });

    it("round-trips the keyring (engine custody) or keeps none (backend custody)", async () => {
      if (backend.custody !== undefined) {
        expect(await backend.readKeyring()).toBeNull();
        await expectKmsError(backend.writeKeyring(new Uint8Array([1])), "BACKEND_ERROR");
        return;
      }
      expect(await backend.readKeyring()).toBeNull();
      const first = Uint8Array.from({ length: 48 }, (_, i) => i);
      await backend.writeKeyring(first);
      first.fill(0);
      expect(Array.from((await backend.readKeyring()) ?? [])).toEqual(
        Array.from({ length: 48 }, (_, i) => i),
      );
      await backend.writeKeyring(new Uint8Array([9, 8, 7]));
      const second = await backend.readKeyring();
      expect(second).toBeInstanceOf(Uint8Array);
      expect(Array.from(second ?? [])).toEqual([9, 8, 7]);
      // Keys and the keyring do not see each other.
      expect((await backend.list(null, 10)).ids).toEqual([]);
    });

    it("stores the automatic-rotation fields and version types, and keys without them as they were", async () => {
      const base = sampleKey("rot");
      const key = {
        ...base,
        versions: [
          base.versions[0] as StoredKey["versions"][number],
          {
            ...(base.versions[1] as StoredKey["versions"][number]),
            rotationType: "AUTOMATIC" as const,
          },
        ],
        rotationPeriodInDays: 90,
        nextRotationDate: new Date("2026-06-01T00:00:00.000Z"),
        rotationClaimedAt: new Date("2026-03-01T00:00:00.000Z"),
      };
      await backend.create(key);
      const got = await backend.get("rot");
      expect(got?.rotationPeriodInDays).toBe(90);
      expect(got?.nextRotationDate?.toISOString()).toBe("2026-06-01T00:00:00.000Z");
      expect(got?.rotationClaimedAt?.toISOString()).toBe("2026-03-01T00:00:00.000Z");
      expect(got?.versions.map((v) => v.rotationType)).toEqual([undefined, "AUTOMATIC"]);
      // Turned off again: null or absent both read as off.
      await backend.put({
        ...key,
        rotationPeriodInDays: null,
        nextRotationDate: null,
        rotationClaimedAt: null,
      });
      const off = await backend.get("rot");
      expect(off?.rotationPeriodInDays ?? null).toBeNull();
      expect(off?.nextRotationDate ?? null).toBeNull();
      expect(off?.rotationClaimedAt ?? null).toBeNull();
      // A key stored without any of them (as before automatic rotation) reads back without them.
      await backend.create(sampleKey("plain"));
      const plain = await backend.get("plain");
      expect(plain?.rotationPeriodInDays ?? null).toBeNull();
      expect(plain?.versions.every((v) => v.rotationType === undefined)).toBe(true);
    });

    describe("aliases", () => {
      const alias = (name: string, target = "k1", at = "2026-01-02T03:04:05.678Z") => ({
        aliasName: name,
        targetKeyId: target,
        creationDate: new Date(at),
        lastUpdatedDate: new Date(at),
      });

      it("stores every field of an alias and returns it equal; null for an unknown one", async () => {
        expect(await backend.getAlias("alias/none")).toBeNull();
        const longest = `alias/${"a/_-Z9".repeat(41)}abcd`;
        expect(longest).toHaveLength(256);
        for (const name of ["alias/app", "alias/a/b/c", longest, "alias//", "alias/-_"]) {
          const entry = {
            ...alias(name, "key.v1_x-2"),
            lastUpdatedDate: new Date("2026-05-06T07:08:09.010Z"),
          };
          await backend.createAlias(entry);
          const got = await backend.getAlias(name);
          expect(got).toEqual(entry);
          expect(got?.creationDate).toBeInstanceOf(Date);
        }
      });

      it("refuses to create an alias that exists, keeping the original", async () => {
        await backend.createAlias(alias("alias/dup", "first"));
        await expectKmsError(backend.createAlias(alias("alias/dup", "second")), "KEY_EXISTS");
        expect((await backend.getAlias("alias/dup"))?.targetKeyId).toBe("first");
      });

      it("lets exactly one of many concurrent creates of one alias win", async () => {
        const results = await Promise.allSettled(
          Array.from({ length: 10 }, (_, i) => backend.createAlias(alias("alias/race", `t${i}`))),
        );
        const winners = results.flatMap((r, i) => (r.status === "fulfilled" ? [i] : []));
        expect(winners).toHaveLength(1);
        for (const r of results) {
          if (r.status === "rejected") {
            expect(isKmsError(r.reason, "KEY_EXISTS"), String(r.reason)).toBe(true);
          }
        }
        expect((await backend.getAlias("alias/race"))?.targetKeyId).toBe(`t${winners[0]}`);
      });

      it("replaces an alias with putAlias, and refuses to put one that does not exist", async () => {
        await backend.createAlias(alias("alias/moving", "k1"));
        const moved = { ...alias("alias/moving", "k2"), lastUpdatedDate: new Date(0) };
        await backend.putAlias(moved);
        expect(await backend.getAlias("alias/moving")).toEqual(moved);
        await expectKmsError(backend.putAlias(alias("alias/ghost")), "KEY_NOT_FOUND");
        expect(await backend.getAlias("alias/ghost")).toBeNull();
      });

      it("deletes an alias idempotently; the name is free again", async () => {
        await backend.createAlias(alias("alias/gone", "k1"));
        await backend.deleteAlias("alias/gone");
        expect(await backend.getAlias("alias/gone")).toBeNull();
        await expect(backend.deleteAlias("alias/gone")).resolves.toBeUndefined();
        await expectKmsError(backend.putAlias(alias("alias/gone")), "KEY_NOT_FOUND");
        await backend.createAlias(alias("alias/gone", "k3"));
        expect((await backend.getAlias("alias/gone"))?.targetKeyId).toBe("k3");
      });

      it("pages through aliases in ascending byte order, apart from the keys", async () => {
        const names = [
          "alias/a",
          "alias/A",
          "alias/a/b",
          "alias/a-b",
          "alias/a_b",
          "alias/ab",
          "alias/a0",
          "alias//x",
          "alias/-",
          "alias/_",
          "alias/Z/z",
          ...Array.from({ length: 30 }, (_, i) => `alias/n${(i * 37) % 100}`),
        ];
        await Promise.all(names.map((n) => backend.createAlias(alias(n))));
        expect(await backend.list(null, 100)).toEqual({ ids: [], more: false });
        const seen: string[] = [];
        let after: string | null = null;
        for (;;) {
          const page = await backend.listAliases(after, 7);
          expect(page.aliases.length).toBeLessThanOrEqual(7);
          seen.push(...page.aliases.map((a) => a.aliasName));
          const last = page.aliases.at(-1);
          if (!page.more || last === undefined) break;
          after = last.aliasName;
        }
        expect(seen).toEqual(byteOrder(names));
        expect(await backend.listAliases("alias/zzz", 5)).toEqual({ aliases: [], more: false });
        // Keys do not show among aliases either.
        await backend.create(sampleKey("k1"));
        expect((await backend.listAliases(null, 1000)).aliases).toHaveLength(names.length);
      });
    });

    it("closes", async () => {
      await backend.create(sampleKey("before-close"));
      await expect(backend.close()).resolves.toBeUndefined();
    });
  });
}
