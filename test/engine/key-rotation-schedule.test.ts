import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ROTATION_CLAIM_GRACE_MS } from "../../src/engine/rotation-schedule.js";
import { MAX_ROTATIONS_PER_SWEEP } from "../../src/engine/rotation-sweep.js";
import {
  createFixture,
  DAY_MS,
  type EngineFixture,
  expectKmsError,
  KEY_DIR,
} from "./engine-fixture.js";

describe("automatic key rotation", () => {
  let f: EngineFixture;
  const later = (ms: number) => {
    f.now = new Date(f.now.getTime() + ms);
  };

  beforeEach(async () => {
    f = await createFixture();
    await f.engine.createKey({ tags: { name: "k" } });
  });
  afterEach(async () => {
    await f.engine.close();
  });

  it("enables with AWS's bounds and default, and shows in the key's metadata", async () => {
    const off = await f.engine.getKeyRotationStatus("k");
    expect(off).toEqual({
      keyId: "k",
      rotationEnabled: false,
      rotationPeriodInDays: null,
      nextRotationDate: null,
    });
    const on = await f.engine.enableKeyRotation("k");
    expect(on).toEqual({
      keyId: "k",
      rotationEnabled: true,
      rotationPeriodInDays: 365,
      nextRotationDate: new Date(f.now.getTime() + 365 * DAY_MS),
    });
    expect(await f.engine.describeKey("k")).toMatchObject({
      rotationEnabled: true,
      rotationPeriodInDays: 365,
      nextRotationDate: on.nextRotationDate,
    });
    for (const bad of [89, 2561, 90.5, 0]) {
      await expectKmsError(f.engine.enableKeyRotation("k", bad), "INVALID_ARGUMENT", /90 and 2560/);
    }
    expect((await f.engine.enableKeyRotation("k", 90)).rotationPeriodInDays).toBe(90);
    expect((await f.engine.enableKeyRotation("k", 2560)).rotationPeriodInDays).toBe(2560);
    await expectKmsError(f.engine.getKeyRotationStatus("nope"), "KEY_NOT_FOUND");
    const offAgain = await f.engine.disableKeyRotation("k");
    expect(offAgain.rotationEnabled).toBe(false);
    expect((await f.engine.describeKey("k")).rotationEnabled).toBe(false);
  });

  it("refuses to change the setting of a Disabled or pending key, with its state", async () => {
    await f.engine.disableKey("k");
    const disabled = await expectKmsError(f.engine.enableKeyRotation("k"), "INVALID_KEY_STATE");
    expect(disabled.keyState).toBe("Disabled");
    expect(
      (await expectKmsError(f.engine.disableKeyRotation("k"), "INVALID_KEY_STATE")).keyState,
    ).toBe("Disabled");
    await f.engine.scheduleKeyDeletion("k", 7);
    expect(
      (await expectKmsError(f.engine.enableKeyRotation("k"), "INVALID_KEY_STATE")).keyState,
    ).toBe("PendingDeletion");
    // Reading the setting works in any state.
    expect((await f.engine.getKeyRotationStatus("k")).rotationEnabled).toBe(false);
  });

  it("rotates once the date has passed on the injected clock, then one period later", async () => {
    await f.engine.enableKeyRotation("k", 90);
    const dk = await f.engine.generateDataKey({ keyId: "k" });
    later(90 * DAY_MS - 1);
    expect(await f.engine.runRotationSweep()).toBe(0);
    later(1);
    const rotatedAt = new Date(f.now.getTime());
    expect(await f.engine.runRotationSweep()).toBe(1);
    expect(await f.engine.runRotationSweep()).toBe(0);
    const meta = await f.engine.describeKey("k");
    expect(meta.keyVersion).toBe(2);
    expect(meta.rotationDate).toEqual(rotatedAt);
    expect(meta.nextRotationDate).toEqual(new Date(rotatedAt.getTime() + 90 * DAY_MS));
    // Old ciphertexts still decrypt; new data keys use version 2.
    await f.engine.decrypt({ ciphertextBlob: dk.ciphertextBlob });
    later(90 * DAY_MS);
    expect(await f.engine.runRotationSweep()).toBe(1);
    await f.engine.rotateKey("k");
    const page = await f.engine.listKeyRotations("k", {});
    expect(page.rotations.map((r) => r.rotationType)).toEqual([
      "AUTOMATIC",
      "AUTOMATIC",
      "ON_DEMAND",
    ]);
    expect(page.rotations[0]?.rotationDate).toEqual(rotatedAt);
    expect(page).toMatchObject({ truncated: false, nextMarker: null });
    expect(f.logs.filter((l) => l.message === "key rotated automatically")).toHaveLength(2);
  });

  it("does not rotate a key while Disabled, and rotates it at once when re-enabled (AWS's rule)", async () => {
    await f.engine.enableKeyRotation("k", 90);
    await f.engine.disableKey("k");
    later(100 * DAY_MS);
    expect(await f.engine.runRotationSweep()).toBe(0);
    expect((await f.engine.describeKey("k")).keyVersion).toBe(1);
    await f.engine.enableKey("k");
    expect(await f.engine.runRotationSweep()).toBe(1);
    expect((await f.engine.describeKey("k")).nextRotationDate).toEqual(
      new Date(f.now.getTime() + 90 * DAY_MS),
    );
  });

  it("does not rotate a key pending deletion, nor one whose rotation was disabled", async () => {
    await f.engine.createKey({ tags: { name: "off" } });
    await f.engine.enableKeyRotation("k", 90);
    await f.engine.enableKeyRotation("off", 90);
    await f.engine.disableKeyRotation("off");
    await f.engine.scheduleKeyDeletion("k", 30);
    later(91 * DAY_MS);
    expect(await f.engine.runRotationSweep()).toBe(0);
  });

  it("keeps the schedule across a restart (the date is persisted)", async () => {
    await f.engine.enableKeyRotation("k", 90);
    const engine = await f.reopen();
    // Let the sweep a start runs at once finish on the clock as it is.
    expect(await engine.runRotationSweep()).toBe(0);
    later(90 * DAY_MS);
    expect(await engine.runRotationSweep()).toBe(1);
    expect((await engine.describeKey("k")).keyVersion).toBe(2);
  });

  it("finishes a rotation claimed by a sweep that died, once the claim's grace has passed", async () => {
    await f.engine.enableKeyRotation("k", 90);
    const store = f.backends.storeFor(KEY_DIR);
    const stored = store.keys.get("k");
    if (stored === undefined) throw new Error("no key");
    // As a crash right after the claim leaves it: next date moved on, claim set, no version.
    stored.rotationClaimedAt = new Date(f.now.getTime());
    stored.nextRotationDate = new Date(f.now.getTime() + 90 * DAY_MS);
    const engine = await f.reopen();
    expect(await engine.runRotationSweep()).toBe(0);
    later(ROTATION_CLAIM_GRACE_MS - 1);
    expect(await engine.runRotationSweep()).toBe(0);
    later(1);
    expect(await engine.runRotationSweep()).toBe(1);
    expect(store.keys.get("k")?.rotationClaimedAt ?? null).toBeNull();
    expect((await engine.listKeyRotations("k", {})).rotations).toHaveLength(1);
  });

  it("logs a key that fails to rotate and leaves it until it is read again", async () => {
    await f.engine.enableKeyRotation("k", 90);
    later(90 * DAY_MS);
    const store = f.backends.storeFor(KEY_DIR);
    store.failing.add("put");
    expect(await f.engine.runRotationSweep()).toBe(0);
    expect(f.logs.some((l) => l.message === "rotation sweep could not rotate a key")).toBe(true);
    store.failing.delete("put");
    expect((await f.engine.describeKey("k")).keyVersion).toBe(1);
    expect(await f.engine.runRotationSweep()).toBe(1);
  });

  it("bounds the rotations of one sweep", async () => {
    const ids = Array.from({ length: MAX_ROTATIONS_PER_SWEEP + 20 }, (_, i) => `b${i}`);
    for (const id of ids) {
      await f.engine.createKey({ tags: { name: id } });
      await f.engine.enableKeyRotation(id, 90);
    }
    later(90 * DAY_MS);
    expect(await f.engine.runRotationSweep()).toBe(MAX_ROTATIONS_PER_SWEEP);
    expect(await f.engine.runRotationSweep()).toBe(20);
  });

  it("pages a key's rotations; versions written before rotation types are ON_DEMAND", async () => {
    for (let i = 0; i < 5; i++) await f.engine.rotateKey("k");
    const stored = f.backends.storeFor(KEY_DIR).keys.get("k");
    if (stored === undefined) throw new Error("no key");
    for (const v of stored.versions) delete v.rotationType;
    await f.engine.clearCache();
    const seen: number[] = [];
    let marker: string | undefined;
    for (let i = 0; i < 5; i++) {
      const page = await f.engine.listKeyRotations("k", { limit: 2, marker });
      expect(page.rotations.every((r) => r.rotationType === "ON_DEMAND")).toBe(true);
      seen.push(...page.rotations.map((r) => r.rotationDate.getTime()));
      if (!page.truncated) break;
      marker = page.nextMarker ?? undefined;
    }
    expect(seen).toHaveLength(5);
    for (const limit of [0, 1001]) {
      await expectKmsError(f.engine.listKeyRotations("k", { limit }), "INVALID_ARGUMENT");
    }
    await expectKmsError(f.engine.listKeyRotations("k", { marker: "x" }), "INVALID_ARGUMENT");
    await expectKmsError(f.engine.listKeyRotations("nope", {}), "KEY_NOT_FOUND");
  });
});
