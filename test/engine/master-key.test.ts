import { randomBytes } from "node:crypto";
import { mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readSecretFile } from "../../src/backends/local/read-secret-file.js";
import { createEngine } from "../../src/engine/engine.js";
import {
  KDF_COST,
  MASTER_KEY_MISMATCH_MESSAGE,
  MISSING_KEYRING_MESSAGE,
  rawMasterKey,
  unlockKeyring,
} from "../../src/engine/keyring.js";
import { MAX_MASTER_KEY_LENGTH, readConfiguredMasterKey } from "../../src/engine/master-key.js";
import { resolveConfig } from "../../src/engine/resolve-config.js";
import type { LocalBackendConfig } from "../../src/engine/types.js";
import { expectKmsError } from "../helpers/expect-kms-error.js";
import {
  createMemoryBackend,
  createMemoryBackendStore,
  createMemoryBackends,
} from "../helpers/memory-backend.js";
import { createMemoryStateStore } from "../helpers/memory-state-store.js";

const RAW_KEY = randomBytes(32);
const RAW_KEY_B64 = RAW_KEY.toString("base64");
const PASSPHRASE = "correct horse battery staple 2026";

function keyringOf(store: { keyring: Uint8Array | null }): Record<string, unknown> {
  return JSON.parse(Buffer.from(store.keyring as Uint8Array).toString("utf8"));
}

describe("rawMasterKey", () => {
  it("takes standard base64 of exactly 32 bytes, and nothing else", () => {
    expect(rawMasterKey(RAW_KEY_B64)).toEqual(RAW_KEY);
    for (const value of [
      PASSPHRASE,
      RAW_KEY_B64.slice(0, 43),
      `${RAW_KEY_B64} `,
      randomBytes(33).toString("base64"),
      randomBytes(31).toString("base64"),
      Buffer.alloc(32, 0xff).toString("base64url"),
      RAW_KEY.toString("hex"),
    ]) {
      expect(rawMasterKey(value), value).toBeNull();
    }
  });

  it("refuses a second spelling of a key (stray bits in the last character)", () => {
    // The 43rd character carries 4 bits of the key and 2 that must be zero;
    // setting them decodes to the same 32 bytes, so only one spelling counts.
    const key = Buffer.alloc(32, 0x41);
    const canonical = key.toString("base64");
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const last = alphabet.indexOf(canonical[42] as string);
    const stray = `${canonical.slice(0, 42)}${alphabet[last | 1]}=`;
    expect(Buffer.from(stray, "base64")).toEqual(key);
    expect(rawMasterKey(canonical)).toEqual(key);
    expect(rawMasterKey(stray)).toBeNull();
  });
});

describe("unlockKeyring", () => {
  it("uses a base64 32-byte master key as the KEK itself, and refuses another key", async () => {
    const store = createMemoryBackendStore();
    const kek = await unlockKeyring(createMemoryBackend(store), RAW_KEY_B64);
    expect(kek).toEqual(RAW_KEY);
    expect(keyringOf(store)).toEqual({ format: 1, kdf: "raw", check: expect.any(String) });
    expect(await unlockKeyring(createMemoryBackend(store), RAW_KEY_B64)).toEqual(RAW_KEY);
    for (const other of [randomBytes(32).toString("base64"), PASSPHRASE]) {
      await expectKmsError(
        unlockKeyring(createMemoryBackend(store), other),
        "CONFIG_CONFLICT",
        MASTER_KEY_MISMATCH_MESSAGE,
      );
    }
  });

  it("stretches a passphrase with scrypt (N=2^15, r=8, p=1) and a salt of its own per directory", async () => {
    const first = createMemoryBackendStore();
    const second = createMemoryBackendStore();
    const kek1 = await unlockKeyring(createMemoryBackend(first), PASSPHRASE);
    const kek2 = await unlockKeyring(createMemoryBackend(second), PASSPHRASE);
    const ring1 = keyringOf(first);
    expect(ring1).toMatchObject({ format: 1, kdf: "scrypt", n: 32768, r: 8, p: 1 });
    expect(KDF_COST).toEqual({ n: 32768, r: 8, p: 1 });
    expect(Buffer.from(ring1.salt as string, "base64").length).toBe(16);
    expect(ring1.salt).not.toBe(keyringOf(second).salt);
    expect(kek1.length).toBe(32);
    expect(kek1).not.toEqual(kek2);
    expect(await unlockKeyring(createMemoryBackend(first), PASSPHRASE)).toEqual(kek1);
    await expectKmsError(
      unlockKeyring(createMemoryBackend(first), `${PASSPHRASE}!`),
      "CONFIG_CONFLICT",
      MASTER_KEY_MISMATCH_MESSAGE,
    );
    await expectKmsError(
      unlockKeyring(createMemoryBackend(first), RAW_KEY_B64),
      "CONFIG_CONFLICT",
      MASTER_KEY_MISMATCH_MESSAGE,
    );
  });

  it("keeps deriving a base64 key through scrypt where an older keyring says scrypt", async () => {
    // Before raw keys were recognised every keyring was scrypt, the generated
    // development key's (base64 of 32 bytes) too: such directories must open.
    const store = createMemoryBackendStore();
    const kek = await unlockKeyring(createMemoryBackend(store), PASSPHRASE);
    const ring = keyringOf(store);
    const older = createMemoryBackendStore();
    // Made as the old code did: scrypt over the base64 string.
    const { scryptSync, createCipheriv } = await import("node:crypto");
    const salt = randomBytes(16);
    const oldKek = scryptSync(RAW_KEY_B64, salt, 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 << 20 });
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", oldKek, iv);
    cipher.setAAD(Buffer.from("kms-gateway/keyring-check/v1", "latin1"));
    const body = Buffer.concat([
      cipher.update(Buffer.from("kms-gateway keyring check v1", "latin1")),
      cipher.final(),
    ]);
    older.keyring = Buffer.from(
      JSON.stringify({
        ...ring,
        salt: salt.toString("base64"),
        check: Buffer.concat([iv, body, cipher.getAuthTag()]).toString("base64"),
      }),
    );
    expect(kek.length).toBe(32);
    expect(await unlockKeyring(createMemoryBackend(older), RAW_KEY_B64)).toEqual(oldKek);
  });

  it("refuses a directory that holds keys but no keyring, and writes none", async () => {
    const store = createMemoryBackendStore();
    const backend = createMemoryBackend(store);
    await backend.create({
      keyId: "orphan",
      description: null,
      keyState: "Enabled",
      stateBeforeDeletion: null,
      creationDate: new Date(),
      deletionDate: null,
      tags: {},
      versions: [{ version: 1, sealedMaterial: randomBytes(61), createdAt: new Date() }],
    });
    for (const key of [PASSPHRASE, RAW_KEY_B64]) {
      await expectKmsError(unlockKeyring(backend, key), "CONFIG_CONFLICT", MISSING_KEYRING_MESSAGE);
    }
    expect(store.keyring).toBeNull();
  });

  it("refuses a damaged keyring without running scrypt on its numbers", async () => {
    const store = createMemoryBackendStore();
    for (const ring of [
      "not json",
      '{"format":1,"kdf":"raw"}',
      '{"format":2,"kdf":"raw","check":"AA=="}',
      '{"format":1,"kdf":"scrypt","n":1073741824,"r":8,"p":1,"salt":"AAAAAAAAAAAAAAAAAAAAAA==","check":"AA=="}',
      '{"format":1,"kdf":"pbkdf2","check":"AA=="}',
    ]) {
      store.keyring = Buffer.from(ring);
      await expectKmsError(unlockKeyring(createMemoryBackend(store), PASSPHRASE), "BACKEND_ERROR");
    }
  });
});

describe("readConfiguredMasterKey", () => {
  const local = (fields: Partial<LocalBackendConfig>): LocalBackendConfig => ({
    backendType: "local",
    keyDir: "/k",
    masterKey: null,
    ...fields,
  });
  const dir = mkdtempSync(join(tmpdir(), "kms-master-key-"));

  it("reads master_key_file at each call, dropping the trailing line break", async () => {
    const path = join(dir, "key");
    writeFileSync(path, `${PASSPHRASE}\n`, { mode: 0o600 });
    const config = local({ masterKeyFile: path });
    expect(await readConfiguredMasterKey(config, { readFile: readSecretFile, env: {} })).toBe(
      PASSPHRASE,
    );
    writeFileSync(path, `${RAW_KEY_B64}\r\n`);
    expect(await readConfiguredMasterKey(config, { readFile: readSecretFile, env: {} })).toBe(
      RAW_KEY_B64,
    );
    // Mounted secrets are often symbolic links.
    const link = join(dir, "link");
    symlinkSync(path, link);
    expect(
      await readConfiguredMasterKey(local({ masterKeyFile: link }), {
        readFile: readSecretFile,
        env: {},
      }),
    ).toBe(RAW_KEY_B64);
  });

  it("names the file and the reason, never the contents, when it cannot be used", async () => {
    const read = (path: string) =>
      readConfiguredMasterKey(local({ masterKeyFile: path }), {
        readFile: readSecretFile,
        env: {},
      });
    await expectKmsError(
      read(join(dir, "missing")),
      "CONFIG_CONFLICT",
      /missing cannot be read \(ENOENT\)/,
    );
    await expectKmsError(read(dir), "CONFIG_CONFLICT", /cannot be read/);
    await expectKmsError(read("/dev/zero"), "CONFIG_CONFLICT", /cannot be read \(ENOTREG\)/);
    const empty = join(dir, "empty");
    writeFileSync(empty, "\n");
    await expectKmsError(read(empty), "CONFIG_CONFLICT", /is empty/);
    const big = join(dir, "big");
    writeFileSync(big, "k".repeat(MAX_MASTER_KEY_LENGTH + 100));
    const error = await expectKmsError(read(big), "CONFIG_CONFLICT", /longer than 4096/);
    expect(error.message).not.toContain("kkkk");
    await expectKmsError(
      readConfiguredMasterKey(local({ masterKeyFile: "/x" }), { env: {} }),
      "CONFIG_CONFLICT",
      /no file reader/,
    );
  });

  it("reads master_key_env, and says when the variable is unset or empty", async () => {
    const config = local({ masterKeyEnv: "KMS_TEST_MASTER" });
    expect(await readConfiguredMasterKey(config, { env: { KMS_TEST_MASTER: PASSPHRASE } })).toBe(
      PASSPHRASE,
    );
    await expectKmsError(
      readConfiguredMasterKey(config, { env: {} }),
      "CONFIG_CONFLICT",
      "master_key_env: KMS_TEST_MASTER is not set",
    );
    await expectKmsError(
      readConfiguredMasterKey(config, { env: { KMS_TEST_MASTER: " " } }),
      "CONFIG_CONFLICT",
      /KMS_TEST_MASTER is empty/,
    );
  });

  it("prefers nothing over nothing: null when no source is configured", async () => {
    expect(await readConfiguredMasterKey(local({}), { env: {} })).toBeNull();
    expect(await readConfiguredMasterKey(local({ masterKey: "inline" }), { env: {} })).toBe(
      "inline",
    );
  });
});

describe("resolveConfig master key sources", () => {
  const resolve = (patch: object, base = null as ReturnType<typeof resolveConfig> | null) =>
    resolveConfig({ backendType: "local", ...patch }, base, "/d");

  it("keeps one source: a new one replaces the stored one, two at once are refused", () => {
    const inline = resolve({ masterKey: PASSPHRASE });
    const file = resolve({ masterKeyFile: "/run/secrets/kms" }, inline);
    expect(file.backend).toEqual({
      backendType: "local",
      keyDir: "/d",
      masterKey: null,
      masterKeyFile: "/run/secrets/kms",
    });
    const env = resolve({ masterKeyEnv: "KMS_MASTER" }, file);
    expect(env.backend).toEqual({
      backendType: "local",
      keyDir: "/d",
      masterKey: null,
      masterKeyEnv: "KMS_MASTER",
    });
    expect(resolve({ cacheTtlSeconds: 5 }, env).backend).toEqual(env.backend);
    expect(resolve({ masterKey: "x" }, env).backend).toEqual({
      backendType: "local",
      keyDir: "/d",
      masterKey: "x",
    });
    expect(() => resolve({ masterKey: "x", masterKeyEnv: "A" })).toThrow(/at most one of/);
    expect(() => resolve({ masterKeyFile: "/a", masterKeyEnv: "A" })).toThrow(/at most one of/);
  });

  it("validates the path and the variable name, and refuses both for vault", () => {
    expect(() => resolve({ masterKeyFile: "relative/key" })).toThrow(
      /master_key_file must be an absolute path/,
    );
    for (const name of ["", "1ABC", "A-B", "A B", "A=B"]) {
      expect(() => resolve({ masterKeyEnv: name }), name).toThrow(/master_key_env/);
    }
    for (const patch of [{ masterKeyFile: "/a" }, { masterKeyEnv: "A" }]) {
      expect(() =>
        resolveConfig(
          { backendType: "vault", address: "http://v:8200", authMethod: { token: "t" }, ...patch },
          null,
          "/d",
        ),
      ).toThrow(/does not apply to the vault backend/);
    }
  });
});

describe("engine with master_key_env", () => {
  it("reads the key at every start, never stores it, and refuses a key that does not open the keys", async () => {
    const backends = createMemoryBackends();
    const stateStore = createMemoryStateStore();
    const env: Record<string, string | undefined> = { KMS_MASTER: PASSPHRASE };
    const build = () =>
      createEngine({ stateStore, backends: { local: backends.factory }, defaultKeyDir: "/d", env });
    let engine = await build();
    await engine.configure({ backendType: "local", keyDir: "/k", masterKeyEnv: "KMS_MASTER" });
    await engine.start();
    await engine.createKey({ tags: { name: "k1" } });
    const dataKey = await engine.generateDataKey({ keyId: "k1" });
    const status = await engine.status();
    expect(status.configSummary?.backendSummary).toEqual({
      backendType: "local",
      keyDir: "/k",
      hasMasterKey: true,
    });
    expect(JSON.stringify(stateStore.saves)).not.toContain(PASSPHRASE);
    expect(stateStore.state?.generatedMasterKey).toBeNull();
    await engine.close();

    // The same key from the environment: everything opens again.
    engine = await build();
    expect((await engine.status()).status).toBe("Running");
    expect((await engine.decrypt({ ciphertextBlob: dataKey.ciphertextBlob })).plaintextKey).toEqual(
      dataKey.plaintextKey,
    );
    await engine.close();

    // Another key in the variable: the start fails and says why.
    env.KMS_MASTER = "another passphrase entirely";
    engine = await build();
    expect((await engine.status()).status).toBe("Error");
    await expectKmsError(engine.start(), "CONFIG_CONFLICT", MASTER_KEY_MISMATCH_MESSAGE);
    env.KMS_MASTER = undefined;
    await expectKmsError(
      engine.start(),
      "CONFIG_CONFLICT",
      "master_key_env: KMS_MASTER is not set",
    );
    env.KMS_MASTER = PASSPHRASE;
    await engine.start();
    expect((await engine.decrypt({ ciphertextBlob: dataKey.ciphertextBlob })).plaintextKey).toEqual(
      dataKey.plaintextKey,
    );
    await engine.close();
  });
});
