import { spawn } from "node:child_process";
import { promises as fsp } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { LOCK_FILE_NAME } from "../../src/backends/local/dir-lock.js";
import {
  createLocalBackend,
  KEY_FILE_SUFFIX,
  KEYRING_FILE_NAME,
  localBackendFactory,
} from "../../src/backends/local/local-backend.js";
import { isTempFileName } from "../../src/backends/local/write-file-atomic.js";
import type { KeyBackend } from "../../src/engine/backend.js";
import type { KmsConfig } from "../../src/engine/types.js";
import { describeKeyBackendContract, expectKmsError, sampleKey } from "./key-backend-contract.js";

async function makeTempDir(): Promise<string> {
  return fsp.mkdtemp(join(tmpdir(), "kms-local-backend-"));
}

/** The names in `dir` other than the lock file an open backend keeps there. */
async function keyDirEntries(dir: string): Promise<string[]> {
  return (await fsp.readdir(dir)).filter((name) => name !== LOCK_FILE_NAME);
}

async function modeOf(path: string): Promise<number> {
  return (await fsp.stat(path)).mode & 0o777;
}

const tempHex = "0123456789abcdef0123456789abcdef";

describeKeyBackendContract("local", async () => {
  const root = await makeTempDir();
  const backend = await createLocalBackend({ keyDir: join(root, "keys") });
  return {
    backend,
    async cleanup() {
      await backend.close();
      await fsp.rm(root, { recursive: true, force: true });
    },
  };
});

describe("local backend", () => {
  let root: string;
  let keyDir: string;
  const opened: KeyBackend[] = [];

  async function open(dir = keyDir): Promise<KeyBackend> {
    const backend = await createLocalBackend({ keyDir: dir });
    opened.push(backend);
    return backend;
  }

  beforeEach(async () => {
    root = await makeTempDir();
    keyDir = join(root, "keys");
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await Promise.all(opened.splice(0).map((b) => b.close()));
    await fsp.rm(root, { recursive: true, force: true });
  });

  it("creates a missing key_dir (and its parents) with mode 0700", async () => {
    const nested = join(root, "a", "b", "keys");
    await open(nested);
    expect((await fsp.stat(nested)).isDirectory()).toBe(true);
    expect(await modeOf(nested)).toBe(0o700);
  });

  it("narrows an existing key_dir that others can read to 0700", async () => {
    await fsp.mkdir(keyDir, { mode: 0o755 });
    await fsp.chmod(keyDir, 0o755);
    await open();
    expect(await modeOf(keyDir)).toBe(0o700);
  });

  it("writes one 0600 JSON file per key and a 0600 keyring file", async () => {
    const backend = await open();
    await backend.create(sampleKey("file-key"));
    await backend.put(sampleKey("file-key", { description: "after put" }));
    await backend.writeKeyring(new Uint8Array([1, 2, 3]));

    const keyFile = join(keyDir, `file-key${KEY_FILE_SUFFIX}`);
    expect(await modeOf(keyFile)).toBe(0o600);
    expect(await modeOf(join(keyDir, KEYRING_FILE_NAME))).toBe(0o600);
    const record = JSON.parse(await fsp.readFile(keyFile, "utf8"));
    expect(record).toMatchObject({
      formatVersion: 1,
      keyId: "file-key",
      description: "after put",
      creationDate: "2026-01-02T03:04:05.678Z",
    });
    expect(record.versions[0].sealedMaterial).toBe(
      Buffer.from(sampleKey("file-key").versions[0]?.sealedMaterial ?? []).toString("base64"),
    );
    expect([...(await fsp.readFile(join(keyDir, KEYRING_FILE_NAME)))]).toEqual([1, 2, 3]);
  });

  it("leaves no temp files behind after many writes", async () => {
    const backend = await open();
    const ids = Array.from({ length: 30 }, (_, i) => `t-${i}`);
    await Promise.all(ids.map((id) => backend.create(sampleKey(id))));
    await Promise.all(ids.map((id) => backend.put(sampleKey(id, { description: "x" }))));
    await Promise.allSettled(ids.map((id) => backend.create(sampleKey(id)))); // all KEY_EXISTS
    await Promise.all(ids.slice(0, 10).map((id) => backend.destroy(id)));
    await backend.writeKeyring(new Uint8Array([1]));
    const names = (await keyDirEntries(keyDir)).sort();
    expect(names).toEqual(
      [KEYRING_FILE_NAME, ...ids.slice(10).map((id) => `${id}${KEY_FILE_SUFFIX}`)].sort(),
    );
  });

  it("keeps the key files after close and finds them on reopen", async () => {
    const first = await open();
    await first.create(sampleKey("persist-a"));
    await first.create(sampleKey("persist-b"));
    await first.writeKeyring(new Uint8Array([5]));
    await first.close();
    const second = await open();
    expect((await second.list(null, 10)).ids).toEqual(["persist-a", "persist-b"]);
    expect((await second.get("persist-b"))?.description).toBe("key persist-b");
    expect([...((await second.readKeyring()) ?? [])]).toEqual([5]);
  });

  it("lets a corrupt key file affect only that key", async () => {
    const first = await open();
    for (const id of ["good-1", "bad-json", "bad-id", "bad-b64", "good-2"]) {
      await first.create(sampleKey(id));
    }
    await first.close();
    const file = (id: string) => join(keyDir, `${id}${KEY_FILE_SUFFIX}`);
    await fsp.writeFile(file("bad-json"), '{"formatVersion":1,"keyId":"bad-js');
    const moved = JSON.parse(await fsp.readFile(file("good-1"), "utf8"));
    await fsp.writeFile(file("bad-id"), JSON.stringify(moved)); // says keyId good-1
    const bad64 = JSON.parse(await fsp.readFile(file("bad-b64"), "utf8"));
    bad64.versions[0].sealedMaterial = "not*base64!";
    await fsp.writeFile(file("bad-b64"), JSON.stringify(bad64));

    const backend = await open();
    await expect(backend.health()).resolves.toBeUndefined();
    expect((await backend.get("good-1"))?.keyId).toBe("good-1");
    expect((await backend.get("good-2"))?.keyId).toBe("good-2");
    const error = await expectKmsError(backend.get("bad-json"), "BACKEND_ERROR");
    expect((error as Error).message).toMatch(/unreadable/);
    expect((error as Error).message).not.toContain(keyDir);
    await expectKmsError(backend.get("bad-id"), "BACKEND_ERROR");
    await expectKmsError(backend.get("bad-b64"), "BACKEND_ERROR");
    // They still exist: listed, and their ids are taken.
    expect((await backend.list(null, 10)).ids).toHaveLength(5);
    await expectKmsError(backend.create(sampleKey("bad-json")), "KEY_EXISTS");
    // A put repairs one; a destroy removes another.
    await backend.put(sampleKey("bad-json"));
    await backend.destroy("bad-id");
    expect((await backend.get("bad-json"))?.keyId).toBe("bad-json");
    await expectKmsError(backend.get("bad-b64"), "BACKEND_ERROR");
  });

  it("removes leftover temp files at open and never lists them", async () => {
    await fsp.mkdir(keyDir, { recursive: true });
    const leftovers = [
      `.crashed${KEY_FILE_SUFFIX}.tmp-${tempHex}`,
      `.${KEYRING_FILE_NAME}.tmp-${tempHex}`,
    ];
    for (const name of leftovers) await fsp.writeFile(join(keyDir, name), "partial");
    await fsp.writeFile(join(keyDir, "README.txt"), "operator notes");
    const backend = await open();
    expect((await backend.list(null, 10)).ids).toEqual([]);
    expect(await backend.get("crashed")).toBeNull();
    expect(await backend.readKeyring()).toBeNull();
    expect((await keyDirEntries(keyDir)).sort()).toEqual(["README.txt"]);
  });

  it("shares one state between backends open on the same directory in one process", async () => {
    const first = await open();
    await first.create(sampleKey("shared-1"));
    // Stands for a write of `first` in flight: a second open (the engine's
    // reconfigure does this) must not delete it, nor keep a separate index.
    const inFlight = join(keyDir, `.shared-3${KEY_FILE_SUFFIX}.tmp-${tempHex}`);
    await fsp.writeFile(inFlight, "half written");
    const second = await open(join(root, ".", "keys"));
    await expect(fsp.access(inFlight)).resolves.toBeUndefined();
    await second.create(sampleKey("shared-2"));
    expect((await first.list(null, 10)).ids).toEqual(["shared-1", "shared-2"]);
    await expectKmsError(first.create(sampleKey("shared-2")), "KEY_EXISTS");
    await first.close();
    await expectKmsError(first.get("shared-1"), "BACKEND_ERROR");
    expect((await second.get("shared-1"))?.keyId).toBe("shared-1");
    await second.destroy("shared-1");
    expect((await second.list(null, 10)).ids).toEqual(["shared-2"]);
  });

  it("refuses a relative or empty key_dir with INVALID_ARGUMENT", async () => {
    for (const dir of ["keys", "./keys", "../keys", ""]) {
      const error = await expectKmsError(createLocalBackend({ keyDir: dir }), "INVALID_ARGUMENT");
      expect((error as Error).message).toMatch(/absolute/);
    }
  });

  it("refuses a key_dir that is a file, or under /proc, with INVALID_ARGUMENT", async () => {
    await fsp.writeFile(keyDir, "not a directory");
    await expectKmsError(createLocalBackend({ keyDir }), "INVALID_ARGUMENT", /is not a directory/);
    await expectKmsError(
      createLocalBackend({ keyDir: "/proc/nope" }),
      "INVALID_ARGUMENT",
      /must not be under \/proc/,
    );
  });

  it("locks key_dir while open, shared by the backends of this process, released with the last", async () => {
    const first = await open();
    const second = await open();
    const lock = JSON.parse(await fsp.readFile(join(keyDir, LOCK_FILE_NAME), "utf8"));
    expect(lock.pid).toBe(process.pid);
    await first.close();
    // The other backend on it still holds the lock.
    expect(await fsp.readdir(keyDir)).toContain(LOCK_FILE_NAME);
    await second.close();
    expect(await fsp.readdir(keyDir)).not.toContain(LOCK_FILE_NAME);
  });

  it("refuses ids that could name a path outside key_dir", async () => {
    const backend = await open();
    const bad = ["../escape", "a/b", "/abs", "a\\b", "a\0b", "", "x".repeat(129), "sp ace", "é"];
    for (const id of bad) {
      await expectKmsError(backend.create(sampleKey(id)), "INVALID_ARGUMENT");
      await expectKmsError(backend.put(sampleKey(id)), "INVALID_ARGUMENT");
      await expectKmsError(backend.get(id), "INVALID_ARGUMENT");
      await expectKmsError(backend.destroy(id), "INVALID_ARGUMENT");
    }
    expect(await keyDirEntries(keyDir)).toEqual([]);
    expect((await fsp.readdir(root)).sort()).toEqual(["keys"]);
    // Dot-only ids are valid ids and stay inside key_dir as plain files.
    await backend.create(sampleKey(".."));
    expect(await keyDirEntries(keyDir)).toEqual([`..${KEY_FILE_SUFFIX}`]);
    expect((await fsp.readdir(root)).sort()).toEqual(["keys"]);
  });

  it("refuses a key with an invalid date or a bad limit with INVALID_ARGUMENT", async () => {
    const backend = await open();
    await expectKmsError(
      backend.create(sampleKey("bad-date", { creationDate: new Date(Number.NaN) })),
      "INVALID_ARGUMENT",
    );
    expect(await backend.get("bad-date")).toBeNull();
    await expectKmsError(backend.list(null, -1), "INVALID_ARGUMENT");
    await expectKmsError(backend.list(null, 1.5), "INVALID_ARGUMENT");
  });

  it("lists from memory: no directory read after open", async () => {
    const backend = await open();
    await backend.create(sampleKey("indexed"));
    const readdir = vi.spyOn(fsp, "readdir");
    const opendir = vi.spyOn(fsp, "opendir");
    // A file that appears behind the backend's back is not seen, proving the listing is not a scan.
    await fsp.writeFile(join(keyDir, `sneaky${KEY_FILE_SUFFIX}`), "{}");
    for (let i = 0; i < 5; i++) {
      expect(await backend.list(null, 100)).toEqual({ ids: ["indexed"], more: false });
    }
    expect(await backend.list("indexed", 100)).toEqual({ ids: [], more: false });
    expect(readdir).not.toHaveBeenCalled();
    expect(opendir).not.toHaveBeenCalled();
  });

  it("never overwrites a key file, even one that appeared after open", async () => {
    const backend = await open();
    const planted = join(keyDir, `planted${KEY_FILE_SUFFIX}`);
    await fsp.writeFile(planted, "written by someone else");
    await expectKmsError(backend.create(sampleKey("planted")), "KEY_EXISTS");
    expect(await fsp.readFile(planted, "utf8")).toBe("written by someone else");
    expect(await keyDirEntries(keyDir)).toEqual([`planted${KEY_FILE_SUFFIX}`]);
  });

  it("runs writes to one key in call order", async () => {
    const backend = await open();
    await backend.create(sampleKey("ordered"));
    const results = await Promise.allSettled([
      backend.put(sampleKey("ordered", { description: "one" })),
      backend.destroy("ordered"),
      backend.put(sampleKey("ordered", { description: "two" })),
      backend.create(sampleKey("ordered", { description: "three" })),
      backend.put(sampleKey("ordered", { description: "four" })),
    ]);
    expect(results.map((r) => r.status)).toEqual([
      "fulfilled",
      "fulfilled",
      "rejected",
      "fulfilled",
      "fulfilled",
    ]);
    expect(isKmsCode((results[2] as PromiseRejectedResult).reason)).toBe("KEY_NOT_FOUND");
    expect((await backend.get("ordered"))?.description).toBe("four");
  });

  it("reports unhealthy with BACKEND_ERROR once key_dir is gone", async () => {
    const backend = await open();
    await expect(backend.health()).resolves.toBeUndefined();
    await fsp.rm(keyDir, { recursive: true });
    await expectKmsError(backend.health(), "BACKEND_ERROR");
    const error = await expectKmsError(backend.create(sampleKey("nowhere")), "BACKEND_ERROR");
    expect((error as Error).cause).toBeDefined();
  });

  it("rejects every call after close with BACKEND_ERROR, and closes twice", async () => {
    const backend = await open();
    await backend.close();
    await backend.close();
    await expectKmsError(backend.health(), "BACKEND_ERROR");
    await expectKmsError(backend.list(null, 1), "BACKEND_ERROR");
    await expectKmsError(backend.create(sampleKey("late")), "BACKEND_ERROR");
  });

  it("is opened by localBackendFactory from a local configuration only", async () => {
    const base = {
      defaultKeyId: null,
      enableCache: true,
      cacheTtlSeconds: 300,
      maxCachedKeys: 1024,
      timeoutSeconds: 30,
      retryAttempts: 3,
    };
    const local: KmsConfig = {
      ...base,
      backend: { backendType: "local", keyDir, masterKey: null },
    };
    const backend = await localBackendFactory(local);
    opened.push(backend);
    await backend.create(sampleKey("via-factory"));
    expect(await keyDirEntries(keyDir)).toEqual([`via-factory${KEY_FILE_SUFFIX}`]);
    const vault: KmsConfig = {
      ...base,
      backend: {
        backendType: "vault",
        address: "https://vault.example",
        authMethod: { token: "t" },
        namespace: null,
        mountPath: "transit",
        kvMount: "secret",
        keyPathPrefix: "p",
        skipTlsVerify: false,
        caCertPath: null,
      },
    };
    await expectKmsError(localBackendFactory(vault), "INVALID_ARGUMENT");
    await expectKmsError(
      localBackendFactory({
        ...local,
        backend: { backendType: "local", keyDir: "rel", masterKey: null },
      }),
      "INVALID_ARGUMENT",
    );
  });

  it("survives a SIGKILL mid-write: every key file parses and every reported key exists", async () => {
    const fixture = fileURLToPath(
      new URL("./fixtures/create-keys-until-killed.ts", import.meta.url),
    );
    const child = spawn(process.execPath, ["--import", "tsx", fixture, keyDir], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => {
      child.on("exit", (_code, signal) => resolve(signal));
    });
    const wanted = 60;
    await new Promise<void>((resolve, reject) => {
      const guard = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`child reported too few keys; stderr: ${stderr}`));
      }, 25_000);
      child.stdout.on("data", (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.split("\n").length > wanted) {
          clearTimeout(guard);
          child.kill("SIGKILL");
          resolve();
        }
      });
      child.on("exit", () => {
        clearTimeout(guard);
        reject(new Error(`child exited on its own; stderr: ${stderr}`));
      });
    });
    expect(await exited).toBe("SIGKILL");
    // Only complete lines were printed after `create` resolved.
    const reported = stdout.split("\n").filter((line) => /^crash-\d-\d{6}$/.test(line));
    expect(reported.length).toBeGreaterThanOrEqual(wanted);

    // Every file the child published parses, before our open cleans anything.
    for (const name of await fsp.readdir(keyDir)) {
      if (!name.endsWith(KEY_FILE_SUFFIX) || isTempFileName(name)) continue;
      const record = JSON.parse(await fsp.readFile(join(keyDir, name), "utf8"));
      expect(`${record.keyId}${KEY_FILE_SUFFIX}`).toBe(name);
    }

    const backend = await open();
    const listed = (await backend.list(null, 100_000)).ids;
    for (const id of reported) expect(listed).toContain(id);
    for (const id of listed) {
      expect(id).toMatch(/^crash-\d-\d{6}$/);
      expect((await backend.get(id))?.keyId).toBe(id);
    }
    expect((await fsp.readdir(keyDir)).filter(isTempFileName)).toEqual([]);
    expect((await backend.readKeyring())?.length).toBe(64);
    // The reopened store works normally.
    await backend.create(sampleKey("after-crash"));
    expect((await backend.get("after-crash"))?.keyId).toBe("after-crash");
  });
});

function isKmsCode(error: unknown): string | undefined {
  return (error as { code?: string } | null)?.code;
}
