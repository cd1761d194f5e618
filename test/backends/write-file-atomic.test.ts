import { promises as fsp } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  isTempFileName,
  writeFileAtomic,
  writeTempFile,
} from "../../src/backends/local/write-file-atomic.js";

describe("writeFileAtomic", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fsp.mkdtemp(join(tmpdir(), "kms-atomic-"));
  });
  afterEach(async () => {
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it("writes a new file with mode 0600 by default and leaves nothing else", async () => {
    const target = join(dir, "state.json");
    await writeFileAtomic(target, "hello");
    expect(await fsp.readFile(target, "utf8")).toBe("hello");
    expect((await fsp.stat(target)).mode & 0o777).toBe(0o600);
    expect(await fsp.readdir(dir)).toEqual(["state.json"]);
  });

  it("replaces an existing file, resetting a wider mode to the one asked for", async () => {
    const target = join(dir, "f.bin");
    await fsp.writeFile(target, "old content that is longer", { mode: 0o644 });
    await writeFileAtomic(target, new Uint8Array([1, 2, 3]), { mode: 0o600 });
    expect([...(await fsp.readFile(target))]).toEqual([1, 2, 3]);
    expect((await fsp.stat(target)).mode & 0o777).toBe(0o600);
    await writeFileAtomic(target, "x", { mode: 0o640 });
    expect((await fsp.stat(target)).mode & 0o777).toBe(0o640);
    expect(await fsp.readdir(dir)).toEqual(["f.bin"]);
  });

  it("removes its temp file when the final rename fails", async () => {
    // A non-empty directory cannot be replaced by a file.
    const target = join(dir, "occupied");
    await fsp.mkdir(target);
    await fsp.writeFile(join(target, "inner"), "x");
    await expect(writeFileAtomic(target, "data")).rejects.toThrow();
    expect(await fsp.readdir(dir)).toEqual(["occupied"]);
  });

  it("rejects when the directory does not exist", async () => {
    await expect(writeFileAtomic(join(dir, "missing", "f"), "data")).rejects.toMatchObject({
      code: "ENOENT",
    });
  });

  it("names temp files so that isTempFileName recognises them, and nothing else", async () => {
    const temp = await writeTempFile(join(dir, "k.key.json"), "data");
    const name = temp.slice(dir.length + 1);
    expect(isTempFileName(name)).toBe(true);
    expect(name.startsWith(".k.key.json.tmp-")).toBe(true);
    expect((await fsp.stat(temp)).mode & 0o777).toBe(0o600);
    for (const other of ["k.key.json", "keyring.bin", ".k.key.json", "x.tmp-0123", ".a.tmp-XYZ"]) {
      expect(isTempFileName(other), other).toBe(false);
    }
  });
});
