import { randomBytes } from "node:crypto";
import { promises as fsp, readFileSync, unlinkSync } from "node:fs";
import { hostname } from "node:os";
import { basename, dirname, join } from "node:path";
import { KmsError } from "../../engine/errors.js";
import { errnoCode } from "./errno-code.js";
import { openNoFollow } from "./open-no-follow.js";
import { writeTempFile } from "./write-file-atomic.js";

/**
 * LOCK_FILE_NAME is the lock file a gateway keeps in each directory it owns
 * (its data dir and its local key_dir). It never ends in `.key.json`.
 */
export const LOCK_FILE_NAME = ".kms-gateway.lock";

/** DirLock is one hold on a directory's lock; the lock is released when the last hold is. */
export interface DirLock {
  /** release gives up this hold; the lock file goes with the process's last hold. */
  release(): Promise<void>;
}

/**
 * LockHolder is what a lock file says about the process holding it: its PID,
 * its start time in clock ticks since boot (field 22 of /proc/<pid>/stat), the
 * kernel's boot id and the host name. Start time and boot id tell a live holder
 * from a dead one whose PID was reused.
 */
interface LockHolder {
  pid: number;
  start: string | null;
  boot: string | null;
  host: string;
}

// Why a lock file and not a listening Unix socket: a socket is released by the
// kernel, but a stale socket file must still be unlinked by name before the
// next bind (the same race as a stale lock file), its path is limited to 108
// bytes, and it needs an answering server just to name the holder's PID. The
// lock file names its holder itself, and staleness is judged exactly on this
// host: the PID is gone, or it now belongs to a process with another start
// time (PID reuse), or the machine has rebooted since (another boot id). A lock
// from another host or container (another host name: its PIDs mean nothing
// here) is taken as live: refusing is the safe answer, and the message says
// which file to remove. The file appears complete or not at all (it is written
// to a temp file and hard-linked into place, and link never replaces), so no
// reader ever sees half a lock. It is removed on exit; after a crash the next
// start finds it stale and replaces it, with no hand cleanup.

interface Hold {
  refs: number;
  ready: Promise<string>;
}

// One lock per real directory per process, shared by every hold on it: the
// engine opens a candidate backend on the same key_dir while the running one
// still serves (a reconfigure swap), and that must not look like a second process.
const holds = new Map<string, Hold>();
// Lock files this process wrote and still holds, with their content, so the
// exit handler can remove them synchronously.
const held = new Map<string, string>();
let exitHookInstalled = false;

const MAX_LOCK_FILE_BYTES = 4096;
const ATTEMPTS = 5;

/**
 * acquireDirLock takes the exclusive lock of directory `realDir` (it must
 * exist; `label` and `shownDir` name it in messages) for this process. A second
 * hold in the same process shares the lock. Rejects with CONFIG_CONFLICT, naming
 * the directory and the holder's PID, when another live process holds it, and
 * with BACKEND_ERROR when the lock file cannot be read or written. A lock left
 * by a dead process is replaced.
 */
export async function acquireDirLock(
  realDir: string,
  label: string,
  shownDir: string = realDir,
): Promise<DirLock> {
  let hold = holds.get(realDir);
  if (hold === undefined) {
    hold = { refs: 0, ready: takeLock(realDir, label, shownDir) };
    holds.set(realDir, hold);
  }
  const mine = hold;
  mine.refs += 1;
  try {
    await mine.ready;
  } catch (error) {
    mine.refs -= 1;
    if (holds.get(realDir) === mine) holds.delete(realDir);
    throw error;
  }
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      mine.refs -= 1;
      if (mine.refs > 0 || holds.get(realDir) !== mine) return;
      holds.delete(realDir);
      await removeOwnLock(await mine.ready);
    },
  };
}

async function takeLock(dir: string, label: string, shownDir: string): Promise<string> {
  const path = join(dir, LOCK_FILE_NAME);
  const text = `${JSON.stringify(await ownHolder())}\n`;
  try {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const temp = await writeTempFile(path, text, { mode: 0o600 });
      try {
        await fsp.link(temp, path);
        held.set(path, text);
        installExitHook();
        return path;
      } catch (error) {
        if (errnoCode(error) !== "EEXIST") throw error;
      } finally {
        await fsp.rm(temp, { force: true });
      }
      const existing = await readLockFile(path);
      // Removed between our link and our read: try again.
      if (existing === null) continue;
      const holder = parseHolder(existing);
      if (holder === null) {
        throw new KmsError(
          "CONFIG_CONFLICT",
          `${label} ${shownDir} has a lock file that is not a kms-gateway lock (${path}); remove it if no gateway uses this directory`,
        );
      }
      if (await isLive(holder)) throw heldBy(label, shownDir, path, holder);
      await removeStale(path, existing);
    }
  } catch (error) {
    if (error instanceof KmsError) throw error;
    throw new KmsError("BACKEND_ERROR", `cannot lock ${label} ${shownDir}`, { cause: error });
  }
  throw new KmsError(
    "BACKEND_ERROR",
    `cannot lock ${label} ${shownDir}: its lock file keeps changing; is another gateway starting?`,
  );
}

function heldBy(label: string, dir: string, path: string, holder: LockHolder): KmsError {
  const elsewhere = holder.host !== hostname();
  return new KmsError(
    "CONFIG_CONFLICT",
    `${label} ${dir} is in use by another kms-gateway process (pid ${holder.pid}${
      elsewhere ? ` on host ${holder.host}` : ""
    }): one process per directory; replicas share keys through the Vault backend${
      elsewhere ? `. If that process is gone, remove ${path}` : ""
    }`,
  );
}

/** isLive tells whether the holder of a lock may still be running. */
async function isLive(holder: LockHolder): Promise<boolean> {
  const own = await ownHolder();
  // Another host or container: its PIDs cannot be checked from here.
  if (holder.host !== own.host) return true;
  if (holder.boot !== null && own.boot !== null && holder.boot !== own.boot) return false;
  // Our PID, yet not in `holds`: an earlier process that had the same PID.
  if (holder.pid === process.pid) return false;
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    // EPERM: alive, but another user's.
    if (errnoCode(error) === "ESRCH") return false;
  }
  if (holder.start === null) return true;
  const start = await startTimeOf(holder.pid);
  // Unreadable /proc (hidepid): the PID is alive, so assume it is the holder.
  return start === null || start === holder.start;
}

/**
 * removeStale removes a stale lock file, and only that one: it is renamed
 * aside (atomic) and compared; if a contender replaced the stale lock with its
 * own live one in between, that one is linked back. A third contender taking
 * the directory in that microsecond window could still be displaced: after a
 * crash, two starts racing for the stale lock is rare, three is not a case.
 */
async function removeStale(path: string, staleText: string): Promise<void> {
  const aside = join(dirname(path), `.${basename(path)}.tmp-${randomBytes(16).toString("hex")}`);
  try {
    await fsp.rename(path, aside);
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return;
    throw error;
  }
  try {
    const moved = await readLockFile(aside);
    if (moved !== null && moved !== staleText) {
      await fsp.link(aside, path).catch(() => undefined);
    }
  } finally {
    await fsp.rm(aside, { force: true });
  }
}

async function removeOwnLock(path: string): Promise<void> {
  const text = held.get(path);
  held.delete(path);
  // Only our own lock: never remove one that another process took over.
  if (text !== undefined && (await readLockFile(path).catch(() => null)) === text) {
    await fsp.rm(path, { force: true }).catch(() => undefined);
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Runs on a normal exit and on process.exit(); after a crash or SIGKILL the
  // next start finds the holder dead instead.
  process.once("exit", () => {
    for (const [path, text] of held) {
      try {
        if (readFileSync(path, "utf8") === text) unlinkSync(path);
      } catch {
        // Already gone, or the directory with it.
      }
    }
  });
}

async function readLockFile(path: string): Promise<string | null> {
  const handle = await openNoFollow(path);
  if (handle === null) return null;
  try {
    const buffer = Buffer.alloc(MAX_LOCK_FILE_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, MAX_LOCK_FILE_BYTES, 0);
    return buffer.subarray(0, bytesRead).toString("utf8");
  } finally {
    await handle.close();
  }
}

function parseHolder(text: string): LockHolder | null {
  try {
    const value = JSON.parse(text) as Partial<LockHolder> | null;
    if (
      typeof value !== "object" ||
      value === null ||
      !Number.isSafeInteger(value.pid) ||
      (value.pid as number) <= 0 ||
      typeof value.host !== "string" ||
      (value.start !== null && typeof value.start !== "string") ||
      (value.boot !== null && typeof value.boot !== "string")
    ) {
      return null;
    }
    return value as LockHolder;
  } catch {
    return null;
  }
}

let ownHolderPromise: Promise<LockHolder> | null = null;

function ownHolder(): Promise<LockHolder> {
  ownHolderPromise ??= (async () => ({
    pid: process.pid,
    start: await startTimeOf(process.pid),
    boot: await readSmallText("/proc/sys/kernel/random/boot_id"),
    host: hostname(),
  }))();
  return ownHolderPromise;
}

/**
 * startTimeOf reads field 22 (starttime) of /proc/<pid>/stat, or null where
 * there is no /proc. The second field (the command) may hold spaces and
 * parentheses, so fields are counted after its last ")".
 */
async function startTimeOf(pid: number): Promise<string | null> {
  const stat = await readSmallText(`/proc/${pid}/stat`);
  if (stat === null) return null;
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state), so field 22 is fields[19].
  const start = fields[19];
  return start !== undefined && /^\d+$/.test(start) ? start : null;
}

async function readSmallText(path: string): Promise<string | null> {
  try {
    return (await fsp.readFile(path, "utf8")).trim();
  } catch {
    return null;
  }
}
