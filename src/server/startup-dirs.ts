import { join } from "node:path";
import { acquireDirLock, type DirLock } from "../backends/local/dir-lock.js";
import { createFileStateStore } from "../backends/local/file-state-store.js";
import { preparePrivateDirectory } from "../backends/local/private-directory.js";
import { isKmsError } from "../engine/errors.js";
import type { Logger } from "./logger.js";

/** STATE_FILE_NAME is the engine's state file inside the data directory. */
export const STATE_FILE_NAME = "kms-state.json";

/**
 * openDataDir makes the data directory ready before anything else happens:
 * created or narrowed to 0700 (a narrowing is logged), readable and writable
 * by this process, and locked for the life of the process. Rejects with a
 * KmsError whose message is the one line to print: INVALID_ARGUMENT for a path
 * that can never work, CONFIG_CONFLICT naming the PID of the process that holds
 * it, BACKEND_ERROR saying why it cannot be used.
 */
export async function openDataDir(dir: string, log: Logger): Promise<DirLock> {
  const { realDir, narrowedFrom } = await preparePrivateDirectory(dir, "data directory");
  if (narrowedFrom !== null) {
    log("warn", "narrowed the permissions of the data directory to 0700", {
      dataDir: dir,
      was: `0${narrowedFrom.toString(8)}`,
    });
  }
  return acquireDirLock(realDir, "data directory", dir);
}

/**
 * holdStartupKeyDir takes the lock of the local key_dir the engine is about to
 * open at start-up (the stored configuration's when it was running, else
 * `firstStartKeyDir`), so that a key_dir held by another process stops this
 * one at once instead of leaving it listening in Error. The caller releases
 * the hold once the engine holds the directory itself. Rejects only with
 * CONFIG_CONFLICT; any other trouble is the engine's to report, so it resolves
 * null then.
 */
export async function holdStartupKeyDir(
  dataDir: string,
  firstStartKeyDir: string | null,
): Promise<DirLock | null> {
  let keyDir: string | null;
  try {
    const stored = await createFileStateStore(join(dataDir, STATE_FILE_NAME)).load();
    if (stored === null) keyDir = firstStartKeyDir;
    else if (stored.running && stored.config.backend.backendType === "local") {
      keyDir = stored.config.backend.keyDir;
    } else keyDir = null;
  } catch {
    return null;
  }
  if (keyDir === null) return null;
  try {
    const { realDir } = await preparePrivateDirectory(keyDir, "key_dir");
    return await acquireDirLock(realDir, "key_dir", keyDir);
  } catch (error) {
    if (isKmsError(error, "CONFIG_CONFLICT")) throw error;
    return null;
  }
}
