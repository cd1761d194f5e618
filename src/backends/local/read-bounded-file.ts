import { openNoFollow } from "./open-no-follow.js";

/**
 * readBoundedFile reads a regular file of at most `maxBytes` without following
 * a symbolic link; null when it does not exist. Throws when it is too large,
 * not a regular file, or unreadable, so a tampered file cannot make us read
 * without bound.
 */
export async function readBoundedFile(path: string, maxBytes: number): Promise<Buffer | null> {
  const handle = await openNoFollow(path);
  if (handle === null) return null;
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new Error("not a regular file");
    if (stats.size > maxBytes) throw new Error("file is too large");
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}
