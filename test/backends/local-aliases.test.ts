import { promises as fsp } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  aliasFileName,
  aliasNameOfFile,
  decodeAliasRecord,
} from "../../src/backends/local/alias-record.js";
import { ALIAS_DIR_NAME } from "../../src/backends/local/local-alias-files.js";
import { createLocalBackend } from "../../src/backends/local/local-backend.js";
import type { KeyBackend } from "../../src/engine/backend.js";
import type { AliasEntry } from "../../src/engine/types.js";
import { expectKmsError, sampleKey } from "./key-backend-contract.js";

const at = new Date("2026-01-02T03:04:05.678Z");
const alias = (aliasName: string, targetKeyId = "k1"): AliasEntry => ({
  aliasName,
  targetKeyId,
  creationDate: at,
  lastUpdatedDate: at,
});
const tempHex = "0123456789abcdef0123456789abcdef";

describe("alias file names", () => {
  it("map alias names one-to-one, within NAME_MAX, never to . or ..", () => {
    const names = [
      "alias/a",
      "alias/a/b",
      "alias//",
      "alias///",
      "alias/a-b_c",
      `alias/${"x".repeat(250)}`,
    ];
    const files = names.map(aliasFileName);
    expect(new Set(files).size).toBe(names.length);
    for (const [i, file] of files.entries()) {
      expect(Buffer.byteLength(file)).toBeLessThanOrEqual(255);
      expect(file).not.toContain("/");
      expect([".", ".."]).not.toContain(file);
      expect(aliasNameOfFile(file)).toBe(names[i]);
    }
    for (const stray of ["a.txt", ".json", "a b.json", "keyring.bin", `${"x".repeat(251)}.json`]) {
      expect(aliasNameOfFile(stray)).toBeNull();
    }
  });

  it("decode refuses a record whose name is not its file's, naming the field only", () => {
    const text = JSON.stringify({
      formatVersion: 1,
      aliasName: "alias/other",
      targetKeyId: "k",
      creationDate: at.toISOString(),
      lastUpdatedDate: at.toISOString(),
    });
    expect(() => decodeAliasRecord(text, "alias/mine")).toThrow(/name does not match/);
    expect(() => decodeAliasRecord("{not json", "alias/mine")).toThrow(/not valid JSON/);
  });
});

describe("local backend aliases", () => {
  let root: string;
  let keyDir: string;
  const opened: KeyBackend[] = [];

  async function open(): Promise<KeyBackend> {
    const backend = await createLocalBackend({ keyDir });
    opened.push(backend);
    return backend;
  }

  beforeEach(async () => {
    root = await fsp.mkdtemp(join(tmpdir(), "kms-local-aliases-"));
    keyDir = join(root, "keys");
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((b) => b.close()));
    await fsp.rm(root, { recursive: true, force: true });
  });

  it("keeps each alias as a 0600 file in a 0700 aliases/ directory, made at the first create", async () => {
    const backend = await open();
    await expect(fsp.stat(join(keyDir, ALIAS_DIR_NAME))).rejects.toThrow();
    await backend.createAlias(alias("alias/app/photos"));
    const dir = join(keyDir, ALIAS_DIR_NAME);
    expect((await fsp.stat(dir)).mode & 0o777).toBe(0o700);
    expect(await fsp.readdir(dir)).toEqual(["app.photos.json"]);
    expect((await fsp.stat(join(dir, "app.photos.json"))).mode & 0o777).toBe(0o600);
    // The key listing never sees the directory.
    await backend.create(sampleKey("k1"));
    expect((await backend.list(null, 10)).ids).toEqual(["k1"]);
  });

  it("finds its aliases again after close and reopen, and removes temp files a crash left", async () => {
    const first = await open();
    await first.createAlias(alias("alias/kept", "k9"));
    await first.createAlias(alias("alias/a/b"));
    await first.close();
    const dir = join(keyDir, ALIAS_DIR_NAME);
    await fsp.writeFile(join(dir, `.kept.json.tmp-${tempHex}`), "torn");
    const second = await open();
    expect(await fsp.readdir(dir)).not.toContain(`.kept.json.tmp-${tempHex}`);
    const page = await second.listAliases(null, 10);
    expect(page.aliases.map((a) => [a.aliasName, a.targetKeyId])).toEqual([
      ["alias/a/b", "k1"],
      ["alias/kept", "k9"],
    ]);
  });

  it("writes the longest alias name, whose temp file name is cut to fit", async () => {
    const backend = await open();
    const longest = `alias/${"L".repeat(250)}`;
    await backend.createAlias(alias(longest));
    await backend.putAlias(alias(longest, "k2"));
    expect((await backend.getAlias(longest))?.targetKeyId).toBe("k2");
    const names = await fsp.readdir(join(keyDir, ALIAS_DIR_NAME));
    expect(names).toEqual([`${"L".repeat(250)}.json`]);
  });

  it("lets a corrupt alias file affect only that alias", async () => {
    const backend = await open();
    await backend.createAlias(alias("alias/good"));
    await backend.createAlias(alias("alias/bad"));
    await fsp.writeFile(join(keyDir, ALIAS_DIR_NAME, "bad.json"), "{oops");
    await expectKmsError(backend.getAlias("alias/bad"), "BACKEND_ERROR", /alias\/bad/);
    expect((await backend.getAlias("alias/good"))?.targetKeyId).toBe("k1");
  });

  it("refuses an aliases entry that is a symbolic link", async () => {
    await fsp.mkdir(keyDir, { recursive: true, mode: 0o700 });
    const elsewhere = join(root, "elsewhere");
    await fsp.mkdir(elsewhere);
    await fsp.symlink(elsewhere, join(keyDir, ALIAS_DIR_NAME));
    await expectKmsError(createLocalBackend({ keyDir }), "BACKEND_ERROR", /alias directory/);
  });

  it("reads a key file written before automatic rotation existed", async () => {
    const backend = await open();
    await backend.create(sampleKey("old"));
    const path = join(keyDir, "old.key.json");
    const record = JSON.parse(await fsp.readFile(path, "utf8"));
    // The exact shape the previous release wrote: no rotation fields at all.
    expect(Object.keys(record).sort()).toEqual(
      [
        "creationDate",
        "deletionDate",
        "description",
        "formatVersion",
        "keyId",
        "keyState",
        "stateBeforeDeletion",
        "tags",
        "versions",
      ].sort(),
    );
    expect(Object.keys(record.versions[1]).sort()).toEqual([
      "createdAt",
      "sealedMaterial",
      "version",
    ]);
    const got = await backend.get("old");
    expect(got?.versions).toHaveLength(2);
    expect(got?.rotationPeriodInDays).toBeUndefined();
  });

  it("refuses names that are not alias names with INVALID_ARGUMENT", async () => {
    const backend = await open();
    for (const bad of ["alias/../x", "alias/", "x/alias", "alias/a.b", "alias/\u0000"]) {
      await expectKmsError(backend.createAlias(alias(bad)), "INVALID_ARGUMENT");
      await expectKmsError(backend.getAlias(bad), "INVALID_ARGUMENT");
    }
  });
});
