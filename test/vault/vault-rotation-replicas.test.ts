import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startVaultEngine, type VaultEngine, vaultPatch } from "../backends/vault/vault-engine.js";
import { startTestVault, type VaultTarget } from "../backends/vault/vault-target.js";

// Two engines sharing one clock and one Vault-compatible server, as two
// replicas whose sweeps find the same key due at the same moment.

const DAY_MS = 86_400_000;
let now = new Date("2026-01-01T00:00:00.000Z");
let target: VaultTarget;
let a: VaultEngine;
let b: VaultEngine;

beforeAll(async () => {
  target = await startTestVault();
  const clock = { now: () => new Date(now.getTime()) };
  [a, b] = await Promise.all([
    startVaultEngine(vaultPatch(target), {}, clock),
    startVaultEngine(vaultPatch(target), {}, clock),
  ]);
}, 30_000);

afterAll(async () => {
  await Promise.all([a?.engine.close(), b?.engine.close()]);
  await target?.close();
});

describe("automatic rotation on two replicas of one Vault", () => {
  it("rotates a due key once, not once per replica (check-and-set claim)", async () => {
    const ids = ["r1", "r2", "r3", "r4", "r5"];
    for (const id of ids) {
      await a.engine.createKey({ tags: { name: id } });
      await a.engine.enableKeyRotation(id, 90);
    }
    // B learns the dates through its own reads, as its full scan would.
    for (const id of ids)
      expect((await b.engine.getKeyRotationStatus(id)).rotationEnabled).toBe(true);
    await Promise.all([a.engine.runRotationSweep(), b.engine.runRotationSweep()]);
    now = new Date(now.getTime() + 90 * DAY_MS);
    const [byA, byB] = await Promise.all([
      a.engine.runRotationSweep(),
      b.engine.runRotationSweep(),
    ]);
    expect(byA + byB).toBe(ids.length);
    for (const id of ids) {
      const rotations = await b.engine.listKeyRotations(id, {});
      expect(rotations.rotations.map((r) => r.rotationType)).toEqual(["AUTOMATIC"]);
      // Transit made exactly one new version too.
      expect(target.server?.transit().latestVersion(id)).toBe(2);
    }
  });
});
