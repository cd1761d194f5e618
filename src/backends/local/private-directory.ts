import { constants, promises as fsp } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { isUnderSystemRoot, SYSTEM_DIRECTORY_ROOTS } from "../../engine/backend.js";
import { KmsError } from "../../engine/errors.js";
import { errnoCode } from "./errno-code.js";

/** PreparedDirectory is a directory made ready by preparePrivateDirectory. */
export interface PreparedDirectory {
  /** The directory with every symbolic link resolved. */
  realDir: string;
  /** The permission bits it had before they were narrowed to 0700, or null when nothing changed. */
  narrowedFrom: number | null;
}

/**
 * preparePrivateDirectory makes `dir` a directory only its owner can use and
 * checks that this process can use it: missing components are created one at
 * a time with mode 0700, and an existing directory that grants group or other
 * any permission is narrowed to 0700. `label` names it in messages ("key_dir",
 * "data directory").
 *
 * Rejects with INVALID_ARGUMENT when the path can never work: relative, under
 * /proc, /sys or /dev (also through a symbolic link), or not a directory; and
 * with BACKEND_ERROR, saying why, when it cannot be created, narrowed, read or
 * written. Node's recursive mkdir is avoided on purpose: on /proc it retries
 * for ever at full CPU; one mkdir per missing component fails once instead.
 */
export async function preparePrivateDirectory(
  dir: string,
  label: string,
): Promise<PreparedDirectory> {
  if (typeof dir !== "string" || !isAbsolute(dir) || dir.includes("\0")) {
    throw refused(`${label} must be an absolute path`);
  }
  const path = resolve(dir);
  assertNotSystem(path, label, dir);
  try {
    const missing: string[] = [];
    let existing = path;
    while (!(await exists(existing))) {
      missing.unshift(existing);
      const parent = dirname(existing);
      if (parent === existing) break;
      existing = parent;
    }
    assertNotSystem(await fsp.realpath(existing), label, dir);
    for (const component of missing) {
      try {
        await fsp.mkdir(component, { mode: 0o700 });
      } catch (error) {
        // Another process may create it at the same moment; the stat below judges.
        if (errnoCode(error) !== "EEXIST") throw error;
      }
    }
    const realDir = await fsp.realpath(path);
    assertNotSystem(realDir, label, dir);
    const stats = await fsp.stat(realDir);
    if (!stats.isDirectory()) throw refused(`${label} ${dir} is not a directory`);
    let narrowedFrom: number | null = null;
    // mkdir's mode is narrowed by the umask and ignored for an existing directory.
    if ((stats.mode & 0o777) !== 0o700) {
      await fsp.chmod(realDir, 0o700);
      narrowedFrom = stats.mode & 0o777;
    }
    await fsp.access(realDir, constants.R_OK | constants.W_OK | constants.X_OK);
    return { realDir, narrowedFrom };
  } catch (error) {
    if (error instanceof KmsError) throw error;
    if (errnoCode(error) === "ENOTDIR") {
      throw refused(`${label} ${dir} is not a directory (a component of it is a file)`);
    }
    throw new KmsError("BACKEND_ERROR", `cannot use ${label} ${dir}: ${describeErrno(error)}`, {
      cause: error,
    });
  }
}

/** describeErrno turns a file-system error into a short reason an operator can act on. */
export function describeErrno(error: unknown): string {
  const code = errnoCode(error);
  switch (code) {
    case "EACCES":
    case "EPERM":
      return `permission denied (${code})`;
    case "EROFS":
      return "read-only file system (EROFS)";
    case "ENOSPC":
      return "no space left on device (ENOSPC)";
    case "EDQUOT":
      return "disk quota exceeded (EDQUOT)";
    case "EIO":
      return "input/output error (EIO)";
    case "ELOOP":
      return "too many symbolic links (ELOOP)";
    case undefined:
      return error instanceof Error ? error.message : "unknown error";
    default:
      return code;
  }
}

function assertNotSystem(path: string, label: string, given: string): void {
  if (isUnderSystemRoot(path)) {
    throw refused(`${label} ${given} must not be under ${SYSTEM_DIRECTORY_ROOTS.join(", ")}`);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await fsp.stat(path);
    return true;
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return false;
    throw error;
  }
}

function refused(message: string): KmsError {
  return new KmsError("INVALID_ARGUMENT", message);
}
