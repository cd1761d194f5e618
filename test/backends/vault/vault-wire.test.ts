import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RecordedRequest } from "../../support/vault/vault-compatible-server.js";
import { startVaultEngine, type VaultEngine, vaultPatch } from "./vault-engine.js";
import { startTestVault, type VaultTarget } from "./vault-target.js";

// What goes over the wire to Vault, from the test server's request log.

let target: VaultTarget;
let subject: VaultEngine;
const requests = () => target.server?.requests ?? [];
const ctx = { bucket: "b", object: "o" };

beforeEach(async () => {
  target = await startTestVault();
});
afterEach(async () => {
  await subject?.engine.close();
  await target.close();
});

/** exercise runs every key RPC once and returns every plaintext the engine handed out. */
async function exercise(): Promise<Buffer[]> {
  const { engine } = subject;
  const plaintexts: Buffer[] = [];
  await engine.createKey({ tags: { name: "wire" } });
  await engine.createKey({ tags: { name: "wire2" } });
  await engine.describeKey("wire");
  await engine.listKeys({});
  const dk = await engine.generateDataKey({ keyId: "wire", encryptionContext: ctx });
  plaintexts.push(Buffer.from(dk.plaintextKey));
  plaintexts.push(
    Buffer.from(
      (await engine.decrypt({ ciphertextBlob: dk.ciphertextBlob, encryptionContext: ctx }))
        .plaintextKey,
    ),
  );
  const secret = Buffer.from("caller data to wrap");
  plaintexts.push(secret);
  const wrapped = await engine.encrypt({ keyId: "wire", plaintext: secret });
  await engine.reEncrypt({ ciphertextBlob: wrapped.ciphertextBlob, destinationKeyId: "wire2" });
  await engine.rotateKey("wire");
  await engine.tagKey("wire", { team: "a" });
  await engine.untagKey("wire", ["team"]);
  await engine.updateKeyDescription("wire", "described");
  await engine.disableKey("wire");
  await engine.enableKey("wire");
  const bare = await engine.generateDataKeyWithoutPlaintext({ keyId: "wire2" });
  plaintexts.push(
    Buffer.from((await engine.decrypt({ ciphertextBlob: bare.ciphertextBlob })).plaintextKey),
  );
  await engine.scheduleKeyDeletion("wire2", 7);
  await engine.cancelKeyDeletion("wire2");
  await engine.status();
  return plaintexts;
}

describe("on the wire", () => {
  it("never reads key material out of Vault, and never sends a plaintext except to Transit encrypt", async () => {
    subject = await startVaultEngine(vaultPatch(target));
    const plaintexts = await exercise();
    expect(requests().length).toBeGreaterThan(20);
    for (const r of requests()) {
      expect(r.path, `${r.method} ${r.path}`).not.toMatch(/^transit\/(export|backup|datakey)\//);
      expect(r.status, `${r.method} ${r.path}`).toBeGreaterThan(0);
    }
    const encodings = (p: Buffer) => [
      p.toString("base64"),
      p.toString("hex"),
      p.toString("base64url"),
    ];
    for (const r of requests()) {
      const body = JSON.stringify(r.body);
      for (const p of plaintexts) {
        for (const text of encodings(p)) {
          if (r.path.startsWith("transit/encrypt/") && body.includes(text)) continue;
          expect(body.includes(text), `${r.method} ${r.path} carries a plaintext`).toBe(false);
        }
      }
    }
    // And Transit encrypt did carry them: the check above is not vacuous.
    const encrypts = requests().filter((r) => r.path.startsWith("transit/encrypt/"));
    expect(encrypts.some((r) => r.body.plaintext === plaintexts[0]?.toString("base64"))).toBe(true);
  });

  it("writes metadata with check-and-set, and binds associated data on every Transit call", async () => {
    subject = await startVaultEngine(vaultPatch(target));
    await exercise();
    const writes = requests().filter(
      (r) => r.method === "POST" && r.path.startsWith("secret/data/"),
    );
    expect(writes.length).toBeGreaterThan(5);
    for (const w of writes) {
      const cas = (w.body.options as { cas?: unknown } | undefined)?.cas;
      expect(Number.isInteger(cas), `${w.path} without cas`).toBe(true);
    }
    expect(writes.filter((w) => (w.body.options as { cas: number }).cas === 0)).toHaveLength(2);
    const transit = requests().filter((r) => /^transit\/(encrypt|decrypt)\//.test(r.path));
    expect(transit.length).toBeGreaterThan(4);
    for (const t of transit) expect(typeof t.body.associated_data).toBe("string");
    // Metadata lives where the issue and RustFS put it.
    expect(writes[0]?.path).toBe("secret/data/rustfs/kms/keys/wire");
    expect(requests().some((r) => r.method === "POST" && r.path === "transit/keys/wire")).toBe(
      true,
    );
  });

  it("sends the token on every request but sys/health", async () => {
    subject = await startVaultEngine(vaultPatch(target));
    await exercise();
    for (const r of requests()) {
      if (r.path === "sys/health") continue;
      expect(r.token, `${r.method} ${r.path}`).toBe(target.token);
    }
  });

  it("sends the namespace header when one is configured", async () => {
    await target.close();
    target = await startTestVault({ namespaces: ["tenant-a"] });
    subject = await startVaultEngine(vaultPatch(target, { namespace: "tenant-a" }));
    await subject.engine.createKey({ tags: { name: "ns" } });
    await subject.engine.generateDataKey({ keyId: "ns" });
    for (const r of requests()) expect(r.namespace, r.path).toBe("tenant-a");
    expect(target.server?.kv("secret", "tenant-a").paths()).toEqual(["rustfs/kms/keys/ns"]);
    expect(target.server?.kv("secret", "").paths()).toEqual([]);
  });
});

/** countDuring counts the Vault requests `fn` makes. */
async function countDuring(
  fn: () => Promise<unknown>,
): Promise<{ count: number; paths: string[] }> {
  const before = requests().length;
  await fn();
  const made: RecordedRequest[] = requests().slice(before);
  return { count: made.length, paths: made.map((r) => `${r.method} ${r.path}`) };
}

describe("Vault requests per call (the closing note's figures)", () => {
  it.each([
    { cache: false, gdk: 2, decrypt: 2 },
    { cache: true, gdk: 1, decrypt: 0 },
  ])(
    "with enable_cache $cache: $gdk per generate-data-key, $decrypt per repeated decrypt",
    async ({ cache, gdk, decrypt }) => {
      subject = await startVaultEngine(vaultPatch(target, { enableCache: cache }));
      const { engine } = subject;
      await engine.createKey({ tags: { name: "hot" } });
      await engine.generateDataKey({ keyId: "hot" }); // warms the metadata cache, if any
      const generated = await countDuring(() =>
        engine.generateDataKey({ keyId: "hot", encryptionContext: ctx }),
      );
      const dk = await engine.generateDataKey({ keyId: "hot", encryptionContext: ctx });
      await engine.decrypt({ ciphertextBlob: dk.ciphertextBlob, encryptionContext: ctx });
      const repeated = await countDuring(() =>
        engine.decrypt({ ciphertextBlob: dk.ciphertextBlob, encryptionContext: ctx }),
      );
      console.log(
        `vault requests, enable_cache=${cache}: generate-data-key ${generated.count} (${generated.paths.join(", ")}); repeated decrypt ${repeated.count} (${repeated.paths.join(", ")})`,
      );
      expect(generated.count).toBe(gdk);
      expect(repeated.count).toBe(decrypt);
    },
  );

  it("drops cached unwrap results on a state change and on clear-cache", async () => {
    subject = await startVaultEngine(vaultPatch(target));
    const { engine } = subject;
    await engine.createKey({ tags: { name: "st" } });
    const dk = await engine.generateDataKey({ keyId: "st" });
    await engine.decrypt({ ciphertextBlob: dk.ciphertextBlob });
    expect(
      (await countDuring(() => engine.decrypt({ ciphertextBlob: dk.ciphertextBlob }))).count,
    ).toBe(0);
    await engine.disableKey("st");
    await expect(engine.decrypt({ ciphertextBlob: dk.ciphertextBlob })).rejects.toMatchObject({
      code: "INVALID_KEY_STATE",
    });
    await engine.enableKey("st");
    const afterEnable = await countDuring(() =>
      engine.decrypt({ ciphertextBlob: dk.ciphertextBlob }),
    );
    expect(afterEnable.paths).toEqual(["POST transit/decrypt/st"]);
    engine.clearCache();
    const afterClear = await countDuring(() =>
      engine.decrypt({ ciphertextBlob: dk.ciphertextBlob }),
    );
    expect(afterClear.paths).toEqual([
      "GET secret/data/rustfs/kms/keys/st",
      "POST transit/decrypt/st",
    ]);
  });
});
