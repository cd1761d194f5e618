import { describe, expect, it, vi } from "vitest";
import { compareIds } from "../helpers/memory-backend.js";
import {
  createFixture,
  DAY_MS,
  type EngineFixture,
  expectKmsError,
  KEY_DIR,
  LOCAL_CONFIG,
  storedKey,
} from "./engine-fixture.js";

async function createKeys(f: EngineFixture, ids: string[]): Promise<void> {
  for (const id of ids) await f.engine.createKey({ tags: { name: id } });
}

describe("createKey and describeKey", () => {
  it("creates an Enabled AES_256 key with a UUID id, as the seed shows", async () => {
    const f = await createFixture();
    const metadata = await f.engine.createKey({
      keyUsage: "ENCRYPT_DECRYPT",
      description: "project-alpha",
      tags: { owner: "security", env: "prod" },
    });
    expect(metadata).toEqual({
      keyId: expect.stringMatching(
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      ),
      description: "project-alpha",
      keyState: "Enabled",
      keyUsage: "ENCRYPT_DECRYPT",
      keySpec: "AES_256",
      creationDate: f.now,
      deletionDate: null,
      rotationEnabled: false,
      tags: { owner: "security", env: "prod" },
      keyVersion: 1,
      rotationDate: null,
    });
    expect(await f.engine.describeKey(metadata.keyId)).toEqual(metadata);
  });

  it("uses Tags.name as the key id and refuses duplicates with KEY_EXISTS", async () => {
    const f = await createFixture();
    const metadata = await f.engine.createKey({
      keyUsage: "EncryptDecrypt",
      tags: { name: "my-key" },
    });
    expect(metadata.keyId).toBe("my-key");
    expect(metadata.description).toBeNull();
    await expectKmsError(f.engine.createKey({ tags: { name: "my-key" } }), "KEY_EXISTS", /my-key/);
  });

  it("validates ids, usage, description and tags", async () => {
    const f = await createFixture();
    const bad = [
      { tags: { name: "" } },
      { tags: { name: "has space" } },
      { tags: { name: "x".repeat(129) } },
      { tags: { name: "ünïcode" } },
      { keyUsage: "SIGN_VERIFY" },
      { description: "d".repeat(8193) },
      { tags: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`t${i}`, "v"])) },
      { tags: { ["k".repeat(129)]: "v" } },
      { tags: { k: "v".repeat(257) } },
    ];
    for (const input of bad) await expectKmsError(f.engine.createKey(input), "INVALID_ARGUMENT");
    expect((await f.engine.createKey({ tags: { name: "x".repeat(128) } })).keyId).toHaveLength(128);
    expect((await f.engine.createKey({ tags: { name: "A.b_c-9" } })).keyId).toBe("A.b_c-9");
    expect((await f.engine.createKey({ description: "d".repeat(8192) })).description).toHaveLength(
      8192,
    );
  });

  it("answers KEY_NOT_FOUND for unknown ids and INVALID_ARGUMENT for malformed ones", async () => {
    const f = await createFixture();
    await expectKmsError(f.engine.describeKey("missing"), "KEY_NOT_FOUND", /missing/);
    await expectKmsError(f.engine.describeKey("../etc/passwd"), "INVALID_ARGUMENT");
    await expectKmsError(f.engine.scheduleKeyDeletion("missing"), "KEY_NOT_FOUND");
    await expectKmsError(f.engine.cancelKeyDeletion("missing"), "KEY_NOT_FOUND");
  });

  it("wraps a non-KmsError backend failure as a generic BACKEND_ERROR and logs it once", async () => {
    const f = await createFixture();
    f.logs.length = 0;
    f.backends.storeFor(KEY_DIR).failing.add("create");
    await expectKmsError(f.engine.createKey({}), "BACKEND_ERROR", /^backend failure$/);
    expect(f.logs).toEqual([
      {
        level: "error",
        message: "backend operation failed",
        fields: { operation: "create", error: "Error: injected create failure" },
      },
    ]);
  });
});

describe("listKeys", () => {
  const ids = ["b", "a", "C", "a-1", "a.1", "a_1", "z", "0", "Z9", "m"];
  const sorted = [...ids].sort(compareIds);

  it("lists in ascending byte order with key_id, description and key_state", async () => {
    const f = await createFixture();
    await createKeys(f, ids);
    const page = await f.engine.listKeys({});
    expect(page.keys.map((k) => k.keyId)).toEqual(sorted);
    expect(page.keys[0]).toEqual({
      keyId: sorted[0],
      description: null,
      keyState: "Enabled",
      tags: { name: sorted[0] },
      creationDate: f.now,
    });
    expect(page).toMatchObject({ truncated: false, nextMarker: null });
  });

  it("pages with limit and an exclusive marker; next_marker is the last id when truncated", async () => {
    const f = await createFixture();
    await createKeys(f, ids);
    const seen: string[] = [];
    let marker: string | undefined;
    for (;;) {
      const page = await f.engine.listKeys({ limit: 3, marker });
      seen.push(...page.keys.map((k) => k.keyId));
      if (!page.truncated) {
        expect(page.nextMarker).toBeNull();
        break;
      }
      expect(page.keys).toHaveLength(3);
      expect(page.nextMarker).toBe(page.keys.at(-1)?.keyId);
      marker = page.nextMarker ?? undefined;
    }
    expect(seen).toEqual(sorted);
    // A marker that is not an existing id is still a lower bound.
    const after = await f.engine.listKeys({ marker: "a0" });
    expect(after.keys.map((k) => k.keyId)).toEqual(sorted.filter((id) => compareIds(id, "a0") > 0));
    // An exact page: not truncated.
    const exact = await f.engine.listKeys({ limit: ids.length });
    expect(exact).toMatchObject({ truncated: false, nextMarker: null });
  });

  it("limit 0 gives an empty, complete page: truncated never comes without a next_marker", async () => {
    const f = await createFixture();
    await createKeys(f, ["a", "b"]);
    for (const marker of [undefined, "a", "b"]) {
      const page = await f.engine.listKeys({ limit: 0, marker });
      expect(page).toEqual({ keys: [], truncated: false, nextMarker: null, unreadableKeyIds: [] });
    }
    // The invariant on every page size: a "while truncated" loop always ends.
    for (const limit of [0, 1, 2, 3]) {
      let marker: string | undefined;
      for (let pages = 0; ; pages++) {
        expect(pages).toBeLessThan(5);
        const page = await f.engine.listKeys({ limit, marker });
        if (page.truncated) expect(page.nextMarker).toEqual(expect.any(String));
        if (!page.truncated) break;
        marker = page.nextMarker ?? undefined;
      }
    }
  });

  it("serves 100 by default and caps limits above 1000, reading only one page", async () => {
    const f = await createFixture({ configure: { ...LOCAL_CONFIG, enableCache: false } });
    const store = f.backends.storeFor(KEY_DIR);
    const total = 1105;
    for (let i = 0; i < total; i++) {
      const id = `key-${String(i).padStart(5, "0")}`;
      store.keys.set(id, storedKey(id, f.now));
      store.ids.push(id);
    }
    store.calls.clear();
    const first = await f.engine.listKeys({});
    expect(first.keys).toHaveLength(100);
    expect(first).toMatchObject({ truncated: true, nextMarker: "key-00099" });
    expect(store.calls.get("get")).toBe(100);
    expect(store.calls.get("list")).toBe(1);
    const capped = await f.engine.listKeys({ limit: 5000 });
    expect(capped.keys).toHaveLength(1000);
    expect((await f.engine.listKeys({ limit: 1e21 })).keys).toHaveLength(1000);
    expect(capped).toMatchObject({ truncated: true, nextMarker: "key-00999" });
    const exactly = await f.engine.listKeys({ limit: 1000, marker: "key-00999" });
    expect(exactly.keys).toHaveLength(105);
    expect(exactly).toMatchObject({ truncated: false, nextMarker: null });
  });

  it("rejects limits that are not non-negative integers", async () => {
    const f = await createFixture();
    for (const limit of [
      -1,
      1.5,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      "10" as unknown as number,
    ]) {
      await expectKmsError(f.engine.listKeys({ limit }), "INVALID_ARGUMENT", /limit/);
    }
  });
});

describe("key deletion", () => {
  it("accepts windows 7 and 30 (default 30) and refuses 6 and 31", async () => {
    const f = await createFixture();
    await createKeys(f, ["a", "b", "c"]);
    await expectKmsError(
      f.engine.scheduleKeyDeletion("a", 6),
      "INVALID_ARGUMENT",
      /pending_window_in_days/,
    );
    await expectKmsError(f.engine.scheduleKeyDeletion("a", 31), "INVALID_ARGUMENT");
    await expectKmsError(f.engine.scheduleKeyDeletion("a", 7.5), "INVALID_ARGUMENT");
    const seven = await f.engine.scheduleKeyDeletion("a", 7);
    expect(seven).toMatchObject({ keyState: "PendingDeletion" });
    expect(seven.deletionDate?.getTime()).toBe(f.now.getTime() + 7 * DAY_MS);
    const thirty = await f.engine.scheduleKeyDeletion("b", 30);
    expect(thirty.deletionDate?.getTime()).toBe(f.now.getTime() + 30 * DAY_MS);
    const byDefault = await f.engine.scheduleKeyDeletion("c");
    expect(byDefault.deletionDate?.getTime()).toBe(f.now.getTime() + 30 * DAY_MS);
    expect(await f.engine.describeKey("c")).toEqual(byDefault);
    await expectKmsError(f.engine.scheduleKeyDeletion("c"), "INVALID_KEY_STATE");
  });

  it("cancel restores Enabled or Disabled and clears the deletion date; only from PendingDeletion", async () => {
    const f = await createFixture();
    await createKeys(f, ["on", "off"]);
    await expectKmsError(f.engine.cancelKeyDeletion("on"), "INVALID_KEY_STATE", /not pending/);
    await f.engine.disableKey("off");
    await f.engine.scheduleKeyDeletion("on", 7);
    await f.engine.scheduleKeyDeletion("off", 7);
    expect(await f.engine.cancelKeyDeletion("on")).toMatchObject({
      keyState: "Enabled",
      deletionDate: null,
    });
    expect(await f.engine.cancelKeyDeletion("off")).toMatchObject({
      keyState: "Disabled",
      deletionDate: null,
    });
    expect((await f.engine.describeKey("off")).keyState).toBe("Disabled");
    expect(f.backends.storeFor(KEY_DIR).keys.get("off")?.stateBeforeDeletion).toBeNull();
  });

  it("the sweep destroys keys after their deletion date; their ciphertexts never decrypt again", async () => {
    const f = await createFixture();
    await createKeys(f, ["doomed", "kept", "later"]);
    const { ciphertextBlob } = await f.engine.generateDataKey({ keyId: "doomed" });
    await f.engine.scheduleKeyDeletion("doomed", 7);
    await f.engine.scheduleKeyDeletion("later", 30);
    f.now = new Date(f.now.getTime() + 7 * DAY_MS - 1);
    expect(await f.engine.runDeletionSweep()).toBe(0);
    expect((await f.engine.describeKey("doomed")).keyState).toBe("PendingDeletion");
    f.now = new Date(f.now.getTime() + 1);
    expect(await f.engine.runDeletionSweep()).toBe(1);
    const store = f.backends.storeFor(KEY_DIR);
    expect(store.keys.has("doomed")).toBe(false);
    await expectKmsError(f.engine.describeKey("doomed"), "KEY_NOT_FOUND");
    // Not "another encryption context": the key is gone, and the message says so.
    await expectKmsError(
      f.engine.decrypt({ ciphertextBlob }),
      "INVALID_CIPHERTEXT",
      'the key this ciphertext was made under ("doomed") does not exist: it was deleted, or never existed here',
    );
    await expectKmsError(f.engine.cancelKeyDeletion("doomed"), "KEY_NOT_FOUND");
    expect((await f.engine.listKeys({})).keys.map((k) => k.keyId)).toEqual(["kept", "later"]);
    // A new key with the old id does not revive the old ciphertexts.
    await f.engine.createKey({ tags: { name: "doomed" } });
    await expectKmsError(f.engine.decrypt({ ciphertextBlob }), "INVALID_CIPHERTEXT");
  });

  it("a key past its date is gone even before the sweep runs", async () => {
    const f = await createFixture();
    await createKeys(f, ["k"]);
    await f.engine.scheduleKeyDeletion("k", 7);
    f.now = new Date(f.now.getTime() + 8 * DAY_MS);
    await expectKmsError(f.engine.describeKey("k"), "KEY_NOT_FOUND");
    expect(f.backends.storeFor(KEY_DIR).keys.has("k")).toBe(false);
  });

  it("survives a restart: the sweep at start destroys what came due meanwhile", async () => {
    const f = await createFixture({ configure: { ...LOCAL_CONFIG, enableCache: false } });
    await createKeys(f, ["k", "other"]);
    await f.engine.scheduleKeyDeletion("k", 7);
    await f.engine.stop();
    f.now = new Date(f.now.getTime() + 10 * DAY_MS);
    const engine = await f.reopen();
    await engine.start();
    // Nothing touches "k" after start: only the start-up sweep can destroy it.
    await vi.waitFor(() => expect(f.backends.storeFor(KEY_DIR).keys.has("k")).toBe(false));
    expect(f.backends.storeFor(KEY_DIR).keys.has("other")).toBe(true);
  });

  it("the sweep pages through more keys than one page", async () => {
    const f = await createFixture({ configure: { ...LOCAL_CONFIG, enableCache: false } });
    const ids = Array.from({ length: 230 }, (_, i) => `k${String(i).padStart(3, "0")}`);
    await createKeys(f, ids);
    for (const id of ids.filter((_, i) => i % 3 === 0)) await f.engine.scheduleKeyDeletion(id, 7);
    f.now = new Date(f.now.getTime() + 7 * DAY_MS);
    expect(await f.engine.runDeletionSweep()).toBe(77);
    expect(f.backends.storeFor(KEY_DIR).keys.size).toBe(230 - 77);
  });
});
