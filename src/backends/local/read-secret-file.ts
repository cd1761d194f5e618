import { promises as fsp } from "node:fs";

/**
 * readSecretFile reads at most `maxBytes + 1` bytes of a regular file (the
 * caller refuses more, without this reading a huge or endless file whole) and
 * rejects when it is missing, unreadable, or not a regular file (a FIFO or
 * /dev/zero would block or never end). Symbolic links are followed: mounted
 * secrets (Kubernetes, systemd credentials) are usually links. The caller owns
 * (and zeroises) the bytes.
 */
export async function readSecretFile(path: string, maxBytes: number): Promise<Uint8Array> {
  const handle = await fsp.open(path, "r");
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) {
      throw Object.assign(new Error(`${path} is not a regular file`), { code: "ENOTREG" });
    }
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return buffer.subarray(0, length);
  } finally {
    await handle.close();
  }
}
