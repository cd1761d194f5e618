import { constants, promises as fsp } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { LOCK_FILE_NAME } from "../../src/backends/local/dir-lock.js";
import { createLocalBackend } from "../../src/backends/local/local-backend.js";
import type { KeyBackend } from "../../src/engine/backend.js";
import { expectKmsError, sampleKey } from "./key-backend-contract.js";

// A full disk or a read-only file system is simulated by making the file
// system calls the backend makes fail with the errno the kernel would give
// (the tests run as root, which a read-only mode bit does not stop). What is
// checked: the call fails with BACKEND_ERROR saying why, nothing already
// stored changes, no temp file is left, and the backend works again once the
// disk does.

function errnoError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: simulated`), { code });
}

/** The prototype of Node's FileHandle, whose methods a write goes through. */
async function fileHandlePrototype(dir: string): Promise<FileHandle> {
  const handle = await fsp.open(dir, constants.O_RDONLY);
  try {
    return Object.getPrototypeOf(handle) as FileHandle;
  } finally {
    await handle.close();
  }
}

describe("local backend on a failing disk", () => {
  let root: string;
  let keyDir: string;
  let backend: KeyBackend;

  async function entries(): Promise<string[]> {
    return (await fsp.readdir(keyDir)).filter((name) => name !== LOCK_FILE_NAME).sort();
  }

  beforeEach(async () => {
    root = await fsp.mkdtemp(join(tmpdir(), "kms-disk-failures-"));
    keyDir = join(root, "keys");
    backend = await createLocalBackend({ keyDir });
    await backend.create(sampleKey("kept", { description: "before the disk filled" }));
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await backend.close();
    await fsp.rm(root, { recursive: true, force: true });
  });

  it("a full disk fails create and put with a 500-class error naming ENOSPC, losing nothing", async () => {
    const before = await entries();
    const keptFile = await fsp.readFile(join(keyDir, "kept.key.json"), "utf8");
    const proto = await fileHandlePrototype(keyDir);
    const write = vi.spyOn(proto, "writeFile").mockRejectedValue(errnoError("ENOSPC"));

    await expectKmsError(
      backend.create(sampleKey("new")),
      "BACKEND_ERROR",
      "cannot write key file: no space left on device (ENOSPC)",
    );
    await expectKmsError(
      backend.put(sampleKey("kept", { description: "after" })),
      "BACKEND_ERROR",
      "cannot write key file: no space left on device (ENOSPC)",
    );
    expect(write).toHaveBeenCalledTimes(2);
    // Nothing published, nothing half-written, no temp file, the old key intact.
    expect(await entries()).toEqual(before);
    expect(await fsp.readFile(join(keyDir, "kept.key.json"), "utf8")).toBe(keptFile);
    expect(await backend.get("new")).toBeNull();
    expect((await backend.list(null, 10)).ids).toEqual(["kept"]);
    expect((await backend.get("kept"))?.description).toBe("before the disk filled");

    // Space again: the same calls succeed.
    write.mockRestore();
    await backend.create(sampleKey("new"));
    await backend.put(sampleKey("kept", { description: "after" }));
    expect((await backend.get("kept"))?.description).toBe("after");
    expect((await backend.list(null, 10)).ids).toEqual(["kept", "new"]);
  });

  it("a read-only file system fails create, put and destroy naming EROFS; reads still work", async () => {
    const before = await entries();
    const realOpen = fsp.open.bind(fsp);
    vi.spyOn(fsp, "open").mockImplementation(async (path, flags, mode) => {
      if (typeof flags === "number" && (flags & constants.O_CREAT) !== 0) {
        throw errnoError("EROFS");
      }
      return realOpen(path, flags, mode);
    });
    vi.spyOn(fsp, "unlink").mockRejectedValue(errnoError("EROFS"));
    const reason = "read-only file system (EROFS)";
    await expectKmsError(
      backend.create(sampleKey("new")),
      "BACKEND_ERROR",
      `cannot write key file: ${reason}`,
    );
    await expectKmsError(
      backend.put(sampleKey("kept", { description: "x" })),
      "BACKEND_ERROR",
      `cannot write key file: ${reason}`,
    );
    await expectKmsError(
      backend.destroy("kept"),
      "BACKEND_ERROR",
      `cannot delete key file: ${reason}`,
    );
    expect(await entries()).toEqual(before);
    expect((await backend.get("kept"))?.description).toBe("before the disk filled");
    expect((await backend.list(null, 10)).ids).toEqual(["kept"]);
  });

  it("a failed fsync of a new key's file leaves no key behind", async () => {
    const proto = await fileHandlePrototype(keyDir);
    vi.spyOn(proto, "sync").mockRejectedValue(errnoError("EIO"));
    await expectKmsError(
      backend.create(sampleKey("new")),
      "BACKEND_ERROR",
      "cannot write key file: input/output error (EIO)",
    );
    vi.restoreAllMocks();
    expect(await entries()).toEqual(["kept.key.json"]);
    expect(await backend.get("new")).toBeNull();
  });
});
