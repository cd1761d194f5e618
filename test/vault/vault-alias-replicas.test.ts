import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startVaultEngine, type VaultEngine, vaultPatch } from "../backends/vault/vault-engine.js";
import { startTestVault, type VaultTarget } from "../backends/vault/vault-target.js";
import { expectKmsError } from "../helpers/expect-kms-error.js";

// Two engines, each with its own Vault backend (its own client and KV
// revisions), in front of one Vault-compatible server: replicas as far as
// aliases are concerned. Aliases are not cached, so each sees the other's
// writes at once.

let target: VaultTarget;
let a: VaultEngine;
let b: VaultEngine;

beforeAll(async () => {
  target = await startTestVault();
  [a, b] = await Promise.all([
    startVaultEngine(vaultPatch(target)),
    startVaultEngine(vaultPatch(target)),
  ]);
  await a.engine.createKey({ tags: { name: "blue" } });
  await a.engine.createKey({ tags: { name: "green" } });
}, 30_000);

afterAll(async () => {
  await Promise.all([a?.engine.close(), b?.engine.close()]);
  await target?.close();
});

describe("aliases on two replicas of one Vault", () => {
  it("of many concurrent creates of one alias through both, exactly one wins (cas=0)", async () => {
    for (let round = 0; round < 5; round++) {
      const name = `alias/race-${round}`;
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) =>
          (i % 2 === 0 ? a : b).engine.createAlias(name, i % 4 < 2 ? "blue" : "green"),
        ),
      );
      const won = results.filter((r) => r.status === "fulfilled");
      expect(won, `round ${round}`).toHaveLength(1);
      for (const r of results) {
        if (r.status === "rejected") expect(r.reason).toMatchObject({ code: "KEY_EXISTS" });
      }
      const winner = (won[0] as PromiseFulfilledResult<{ targetKeyId: string }>).value;
      expect(await a.engine.resolveAlias(name)).toBe(winner.targetKeyId);
      expect(await b.engine.resolveAlias(name)).toBe(winner.targetKeyId);
    }
  });

  it("an update or delete through one is what the other sees next", async () => {
    await a.engine.createAlias("alias/shared", "blue");
    await b.engine.updateAlias("alias/shared", "green");
    expect(await a.engine.resolveAlias("alias/shared")).toBe("green");
    await a.engine.deleteAlias("alias/shared");
    await expectKmsError(b.engine.resolveAlias("alias/shared"), "KEY_NOT_FOUND");
    await expectKmsError(b.engine.updateAlias("alias/shared", "blue"), "KEY_NOT_FOUND");
  });

  it("keeps aliases in KV v2 under the key prefix's aliases/ folder, never among the keys", async () => {
    await a.engine.createAlias("alias/where/is", "blue");
    const paths = target.server?.kv().paths() ?? [];
    const hex = Buffer.from("where/is").toString("hex");
    expect(paths).toContain(`rustfs/kms/keys/aliases/${hex}`);
    const ids = (await b.engine.listKeys({ limit: 1000 })).keys.map((k) => k.keyId);
    expect(ids.sort()).toEqual(["blue", "green"]);
  });
});
