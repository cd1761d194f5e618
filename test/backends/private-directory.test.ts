import { promises as fsp } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { preparePrivateDirectory } from "../../src/backends/local/private-directory.js";
import { expectKmsError } from "../helpers/expect-kms-error.js";

describe("preparePrivateDirectory", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fsp.mkdtemp(join(tmpdir(), "kms-privdir-"));
  });
  afterEach(async () => {
    await fsp.chmod(dir, 0o700).catch(() => undefined);
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it("creates missing directories one by one with mode 0700", async () => {
    const target = join(dir, "a", "b");
    const prepared = await preparePrivateDirectory(target, "key_dir");
    expect(prepared).toEqual({ realDir: target, narrowedFrom: null });
    expect((await fsp.stat(join(dir, "a"))).mode & 0o777).toBe(0o700);
    expect((await fsp.stat(target)).mode & 0o777).toBe(0o700);
  });

  it("narrows an existing 0777 directory to 0700, keeps its content and says so", async () => {
    const target = join(dir, "wide");
    await fsp.mkdir(target);
    await fsp.chmod(target, 0o777);
    await fsp.writeFile(join(target, "keep"), "x");
    const prepared = await preparePrivateDirectory(target, "data directory");
    expect(prepared.narrowedFrom).toBe(0o777);
    expect((await fsp.stat(target)).mode & 0o777).toBe(0o700);
    expect(await fsp.readdir(target)).toEqual(["keep"]);
  });

  it.each([
    ["relative", "rel/keys", /must be an absolute path/],
    ["under /proc", "/proc/nope", /must not be under \/proc/],
    ["/proc itself", "/proc", /must not be under/],
    ["under /sys", "/sys/kernel/nope", /must not be under/],
    ["under /dev", "/dev/shm/../nope", /must not be under/],
  ])("refuses a %s path with INVALID_ARGUMENT, at once", async (_, path, message) => {
    const started = Date.now();
    await expectKmsError(preparePrivateDirectory(path, "key_dir"), "INVALID_ARGUMENT", message);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("refuses /proc reached through a symbolic link, without looping", async () => {
    await fsp.symlink("/proc", join(dir, "link"));
    await expectKmsError(
      preparePrivateDirectory(join(dir, "link", "nope", "deeper"), "key_dir"),
      "INVALID_ARGUMENT",
      /must not be under \/proc/,
    );
  });

  it("refuses a file, or a path through a file, as not a directory", async () => {
    const file = join(dir, "file");
    await fsp.writeFile(file, "x");
    await expectKmsError(
      preparePrivateDirectory(file, "key_dir"),
      "INVALID_ARGUMENT",
      /is not a directory/,
    );
    await expectKmsError(
      preparePrivateDirectory(join(file, "sub"), "key_dir"),
      "INVALID_ARGUMENT",
      /is not a directory/,
    );
  });
});
