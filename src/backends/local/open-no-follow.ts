import { constants, promises as fsp } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { errnoCode } from "./errno-code.js";

/**
 * openNoFollow opens a file for reading without following a symbolic link (so a link
 * planted in the key directory cannot point a read elsewhere), or answers null when
 * the file does not exist. Any other error is thrown; the caller closes the handle.
 */
export async function openNoFollow(path: string): Promise<FileHandle | null> {
  try {
    return await fsp.open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return null;
    throw error;
  }
}
