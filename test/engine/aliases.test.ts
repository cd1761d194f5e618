import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ALIAS_SCAN_BUDGET } from "../../src/engine/alias-operations.js";
import {
  createFixture,
  DAY_MS,
  type EngineFixture,
  expectKmsError,
  KEY_DIR,
} from "./engine-fixture.js";

describe("engine aliases", () => {
  let f: EngineFixture;

  beforeEach(async () => {
    f = await createFixture();
  });
  afterEach(async () => {
    await f.engine.close();
  });

  it("survives a restart of the engine (the backend keeps them)", async () => {
    await f.engine.createKey({ tags: { name: "k" } });
    await f.engine.createAlias("alias/kept", "k");
    const engine = await f.reopen();
    expect(await engine.resolveAlias("alias/kept")).toBe("k");
  });

  it("hands out copies: changing a returned alias changes nothing stored", async () => {
    await f.engine.createKey({ tags: { name: "k" } });
    const made = await f.engine.createAlias("alias/copy", "k");
    made.targetKeyId = "other";
    made.creationDate.setTime(0);
    const [listed] = (await f.engine.listAliases({})).aliases;
    expect(listed?.targetKeyId).toBe("k");
    expect(listed?.creationDate.getTime()).toBe(f.now.getTime());
  });

  it("bounds the aliases one page filtered by key reads, and still finds them all", async () => {
    await f.engine.createKey({ tags: { name: "many" } });
    await f.engine.createKey({ tags: { name: "few" } });
    const store = f.backends.storeFor(KEY_DIR);
    for (let i = 0; i < ALIAS_SCAN_BUDGET + 150; i++) {
      await f.engine.createAlias(`alias/a${String(i).padStart(5, "0")}`, "many");
    }
    for (const name of ["alias/b1", "alias/b2"]) await f.engine.createAlias(name, "few");
    const listed = () => store.calls.get("listAliases") ?? 0;
    const before = listed();
    const first = await f.engine.listAliases({ keyId: "few" });
    // No alias of "few" among the first ALIAS_SCAN_BUDGET: an empty page that says go on.
    expect(first.aliases).toEqual([]);
    expect(first.truncated).toBe(true);
    expect(first.nextMarker).toBe(`alias/a${String(ALIAS_SCAN_BUDGET - 1).padStart(5, "0")}`);
    expect(listed() - before).toBeLessThanOrEqual(ALIAS_SCAN_BUDGET / 100);
    const second = await f.engine.listAliases({
      keyId: "few",
      marker: first.nextMarker ?? undefined,
    });
    expect(second.aliases.map((a) => a.aliasName)).toEqual(["alias/b1", "alias/b2"]);
    expect(second).toMatchObject({ truncated: false, nextMarker: null });
    // Unfiltered, a page costs one listing of `limit`.
    const page = await f.engine.listAliases({ limit: 1000 });
    expect(page.aliases).toHaveLength(1000);
    expect(page.truncated).toBe(true);
  });

  it("a crash between deleting a key's aliases and destroying it is finished by the next sweep", async () => {
    await f.engine.createKey({ tags: { name: "doomed" } });
    await f.engine.createAlias("alias/doomed", "doomed");
    await f.engine.scheduleKeyDeletion("doomed", 7);
    f.now = new Date(f.now.getTime() + 7 * DAY_MS + 1);
    const store = f.backends.storeFor(KEY_DIR);
    store.failing.add("destroy");
    expect(await f.engine.runDeletionSweep()).toBe(0);
    expect(store.keys.has("doomed")).toBe(true);
    expect(store.aliases.size).toBe(0);
    await expectKmsError(f.engine.resolveAlias("alias/doomed"), "KEY_NOT_FOUND");
    store.failing.delete("destroy");
    expect(await f.engine.runDeletionSweep()).toBe(1);
    expect(store.keys.has("doomed")).toBe(false);
  });

  it("an alias whose key is gone resolves to KEY_NOT_FOUND naming it, and can be deleted or moved", async () => {
    await f.engine.createKey({ tags: { name: "live" } });
    // As another gateway racing a destroy could leave it.
    f.backends.storeFor(KEY_DIR).aliases.set("alias/stale", {
      aliasName: "alias/stale",
      targetKeyId: "gone",
      creationDate: f.now,
      lastUpdatedDate: f.now,
    });
    await expectKmsError(f.engine.resolveAlias("alias/stale"), "KEY_NOT_FOUND", /alias\/stale/);
    await expectKmsError(f.engine.createAlias("alias/stale", "live"), "KEY_EXISTS");
    await f.engine.updateAlias("alias/stale", "live");
    expect(await f.engine.resolveAlias("alias/stale")).toBe("live");
    await f.engine.deleteAlias("alias/stale");
    expect((await f.engine.listAliases({})).aliases).toEqual([]);
  });

  it("never leaves an alias naming a key destroyed concurrently in this process", async () => {
    const store = f.backends.storeFor(KEY_DIR);
    for (let round = 0; round < 25; round++) {
      const keyId = `race-${round}`;
      await f.engine.createKey({ tags: { name: keyId } });
      await Promise.allSettled([
        f.engine.createAlias(`alias/${keyId}`, keyId),
        f.engine.destroyKeyNow(keyId),
      ]);
      if (!store.keys.has(keyId)) expect(store.aliases.has(`alias/${keyId}`)).toBe(false);
    }
  });

  it("answers NOT_RUNNING while stopped", async () => {
    await f.engine.stop();
    await expectKmsError(f.engine.createAlias("alias/x", "k"), "NOT_RUNNING");
    await expectKmsError(f.engine.listAliases({}), "NOT_RUNNING");
  });
});
