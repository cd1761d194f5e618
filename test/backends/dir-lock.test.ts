import { type ChildProcess, spawn } from "node:child_process";
import { promises as fsp } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { acquireDirLock, LOCK_FILE_NAME } from "../../src/backends/local/dir-lock.js";
import { expectKmsError } from "../helpers/expect-kms-error.js";

const holderScript = fileURLToPath(new URL("./fixtures/hold-dir-lock.ts", import.meta.url));

/** Starts a child that takes the lock of `dir`; resolves once it holds it. */
async function startHolder(dir: string, mode: "hold" | "exit" = "hold"): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", holderScript, dir, mode], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  await new Promise<void>((resolve, reject) => {
    const guard = setTimeout(() => reject(new Error(`holder did not lock: ${stderr}`)), 20_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("locked")) {
        clearTimeout(guard);
        resolve();
      }
    });
    child.once("exit", (code) => {
      if (mode === "exit") return;
      clearTimeout(guard);
      reject(new Error(`holder exited with ${code}: ${stderr}`));
    });
  });
  return child;
}

function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

async function ownStartTime(): Promise<string> {
  const stat = await fsp.readFile("/proc/self/stat", "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] as string;
}

describe("acquireDirLock", () => {
  let dir: string;
  const children: ChildProcess[] = [];
  beforeEach(async () => {
    dir = await fsp.mkdtemp(join(tmpdir(), "kms-dirlock-"));
  });
  afterEach(async () => {
    for (const child of children.splice(0)) {
      child.kill("SIGKILL");
      await exitOf(child);
    }
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it("shares one lock between holds of one process and removes it with the last", async () => {
    const first = await acquireDirLock(dir, "data directory");
    const second = await acquireDirLock(dir, "data directory");
    const text = await fsp.readFile(join(dir, LOCK_FILE_NAME), "utf8");
    expect(JSON.parse(text)).toMatchObject({ pid: process.pid, host: hostname() });
    expect((await fsp.stat(join(dir, LOCK_FILE_NAME))).mode & 0o777).toBe(0o600);
    await first.release();
    await first.release();
    expect(await fsp.readFile(join(dir, LOCK_FILE_NAME), "utf8")).toBe(text);
    await second.release();
    await expect(fsp.stat(join(dir, LOCK_FILE_NAME))).rejects.toMatchObject({ code: "ENOENT" });
    // No temp file is left beside it.
    expect(await fsp.readdir(dir)).toEqual([]);
  });

  it("refuses a directory a live process holds, naming it and the PID; takes it after a SIGKILL", async () => {
    const holder = await startHolder(dir);
    children.push(holder);
    const error = await expectKmsError(acquireDirLock(dir, "data directory"), "CONFIG_CONFLICT");
    expect(error.message).toContain(`data directory ${dir} is in use`);
    expect(error.message).toContain(`pid ${holder.pid}`);
    holder.kill("SIGKILL");
    await exitOf(holder);
    // The dead holder's file is still there: no hand cleanup is needed.
    expect(JSON.parse(await fsp.readFile(join(dir, LOCK_FILE_NAME), "utf8"))).toMatchObject({
      pid: holder.pid,
    });
    const lock = await acquireDirLock(dir, "data directory");
    expect(JSON.parse(await fsp.readFile(join(dir, LOCK_FILE_NAME), "utf8"))).toMatchObject({
      pid: process.pid,
    });
    await lock.release();
  });

  it("removes its lock file on a normal exit", async () => {
    const holder = await startHolder(dir, "exit");
    await exitOf(holder);
    expect(holder.exitCode).toBe(0);
    expect(await fsp.readdir(dir)).toEqual([]);
  });

  it("takes over a lock whose PID is alive but belongs to another process (PID reuse)", async () => {
    const start = await ownStartTime();
    // The parent of this test process is alive; its start time is not this one.
    const reused = {
      pid: process.ppid,
      start: String(Number(start) + 12345),
      boot: null,
      host: hostname(),
    };
    await fsp.writeFile(join(dir, LOCK_FILE_NAME), JSON.stringify(reused));
    const lock = await acquireDirLock(dir, "key_dir");
    expect(JSON.parse(await fsp.readFile(join(dir, LOCK_FILE_NAME), "utf8")).pid).toBe(process.pid);
    await lock.release();
  });

  it("takes over a lock from before a reboot (another boot id)", async () => {
    const before = { pid: process.ppid, start: null, boot: "not-this-boot", host: hostname() };
    await fsp.writeFile(join(dir, LOCK_FILE_NAME), JSON.stringify(before));
    const lock = await acquireDirLock(dir, "key_dir");
    await lock.release();
  });

  it("treats a lock from another host as live and says which file to remove", async () => {
    const remote = { pid: 4242, start: "1", boot: null, host: "elsewhere.example" };
    await fsp.writeFile(join(dir, LOCK_FILE_NAME), JSON.stringify(remote));
    const error = await expectKmsError(acquireDirLock(dir, "key_dir"), "CONFIG_CONFLICT");
    expect(error.message).toContain("pid 4242 on host elsewhere.example");
    expect(error.message).toContain(`remove ${join(dir, LOCK_FILE_NAME)}`);
  });

  it("refuses a lock file that is not one of ours instead of guessing", async () => {
    await fsp.writeFile(join(dir, LOCK_FILE_NAME), "hello");
    await expectKmsError(
      acquireDirLock(dir, "key_dir"),
      "CONFIG_CONFLICT",
      /not a kms-gateway lock/,
    );
    expect(await fsp.readFile(join(dir, LOCK_FILE_NAME), "utf8")).toBe("hello");
  });
});
