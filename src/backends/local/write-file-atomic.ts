import { randomBytes } from "node:crypto";
import { constants, promises as fsp } from "node:fs";
import { basename, dirname, join } from "node:path";

/**
 * TEMP_FILE_PATTERN matches the names writeTempFile gives its temp files:
 * `.<target name, cut to 200 characters>.tmp-<32 hex digits>`. Open-time cleanup removes exactly these.
 */
export const TEMP_FILE_PATTERN = /^\..+\.tmp-[0-9a-f]{32}$/;

// 1 + 200 + 5 + 32 = 238 bytes, under the 255 of every common file system.
const MAX_TEMP_BASE_LENGTH = 200;

/** isTempFileName tells whether a directory entry is a temp file left by writeTempFile. */
export function isTempFileName(name: string): boolean {
  return TEMP_FILE_PATTERN.test(name);
}

/** WriteFileOptions sets the permission bits of the written file (default 0o600). */
export interface WriteFileOptions {
  mode?: number;
}

/**
 * writeTempFile writes `data` durably to a fresh, exclusively created temp file
 * next to `target` (same directory, so a later rename or link stays on one file
 * system) and returns its path. The temp file is removed if anything fails.
 */
export async function writeTempFile(
  target: string,
  data: Uint8Array | string,
  options: WriteFileOptions = {},
): Promise<string> {
  const mode = options.mode ?? 0o600;
  // A name of up to 255 bytes (an alias file's) would overflow NAME_MAX with
  // the affixes; the random part alone keeps the temp name unique.
  const base = basename(target).slice(0, MAX_TEMP_BASE_LENGTH);
  const temp = join(dirname(target), `.${base}.tmp-${randomBytes(16).toString("hex")}`);
  // O_EXCL: never reuse or follow a file someone else put there.
  const handle = await fsp.open(
    temp,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL,
    mode,
  );
  try {
    try {
      // The umask can only narrow `mode`; chmod makes the bits exactly `mode`.
      await handle.chmod(mode);
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    await fsp.rm(temp, { force: true }).catch(() => undefined);
    throw error;
  }
  return temp;
}

/**
 * fsyncDirectory makes a directory's entries (a rename, link or unlink in it)
 * durable. File systems that cannot fsync a directory (EINVAL) are tolerated.
 */
export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await fsp.open(dir, constants.O_RDONLY);
  try {
    await handle.sync();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EINVAL") throw error;
  } finally {
    await handle.close();
  }
}

/**
 * writeFileAtomic replaces `path` with `data` so that a reader, or the file after
 * a crash, sees either the old or the new content, never a mix: it writes and
 * fsyncs a temp file in the same directory, renames it over `path` and fsyncs
 * the directory. The file gets `options.mode` (default 0o600).
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
  options: WriteFileOptions = {},
): Promise<void> {
  const temp = await writeTempFile(path, data, options);
  try {
    await fsp.rename(temp, path);
  } catch (error) {
    await fsp.rm(temp, { force: true }).catch(() => undefined);
    throw error;
  }
  await fsyncDirectory(dirname(path));
}
