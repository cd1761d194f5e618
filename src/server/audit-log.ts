import { constants, promises as fs } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { type AuditEntry, formatAuditLine } from "./audit-entry.js";

/** AuditLogOptions configure createFileAuditLog. */
export interface AuditLogOptions {
  /** The file lines are appended to (created 0600). */
  path: string;
  /** Rotate when the file reaches this size: path → path.1 → … → path.<keep>. */
  maxBytes: number;
  /** How many rotated files to keep. */
  keep: number;
  /** At most this many lines wait for a write; more are refused at once. */
  maxPending?: number;
  now?: () => Date;
}

/**
 * AuditLog appends audit lines. `write` resolves once the line is on disk (lines
 * are written and fdatasync'ed in batches, so concurrent calls share one sync) and
 * rejects when it cannot be: callers that must be audited then fail closed.
 */
export interface AuditLog {
  write(entry: AuditEntry): Promise<void>;
  /** close writes what is pending and closes the file. */
  close(): Promise<void>;
}

/** AuditLogError says why an audit line could not be written (no line content in it). */
export class AuditLogError extends Error {
  override readonly name = "AuditLogError";
}

interface Pending {
  line: string;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** createFileAuditLog opens (or creates, 0600) the audit file for appending. */
export async function createFileAuditLog(options: AuditLogOptions): Promise<AuditLog> {
  const now = options.now ?? (() => new Date());
  const maxPending = options.maxPending ?? 10_000;
  let handle: FileHandle = await open(options.path);
  let size = (await handle.stat()).size;
  let pending: Pending[] = [];
  let flushing: Promise<void> | null = null;
  let closed = false;

  async function rotate(): Promise<void> {
    await handle.close();
    for (let i = options.keep - 1; i >= 1; i--) {
      await fs.rename(`${options.path}.${i}`, `${options.path}.${i + 1}`).catch(ignoreMissing);
    }
    if (options.keep >= 1) await fs.rename(options.path, `${options.path}.1`);
    else await fs.rm(options.path, { force: true });
    handle = await open(options.path);
    size = 0;
  }

  async function flush(): Promise<void> {
    while (pending.length > 0) {
      const batch = pending;
      pending = [];
      try {
        if (size >= options.maxBytes) await rotate();
        const bytes = Buffer.from(batch.map((p) => p.line).join(""), "utf8");
        await handle.write(bytes);
        await handle.datasync();
        size += bytes.length;
        for (const p of batch) p.resolve();
      } catch (error) {
        const failure = new AuditLogError(
          `the audit log ${options.path} cannot be written (${(error as NodeJS.ErrnoException).code ?? "error"})`,
          { cause: error },
        );
        for (const p of batch) p.reject(failure);
      }
    }
  }

  function schedule(): void {
    flushing ??= flush().finally(() => {
      flushing = null;
      if (pending.length > 0) schedule();
    });
  }

  return {
    write(entry) {
      if (closed) return Promise.reject(new AuditLogError("the audit log is closed"));
      if (pending.length >= maxPending) {
        return Promise.reject(new AuditLogError("the audit log is behind: too many lines waiting"));
      }
      const line = formatAuditLine(entry, now());
      return new Promise<void>((resolve, reject) => {
        pending.push({ line, resolve, reject });
        schedule();
      });
    },
    async close() {
      closed = true;
      while (flushing) await flushing;
      await handle.close();
    },
  };
}

async function open(path: string): Promise<FileHandle> {
  const handle = await fs.open(
    path,
    constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW,
    0o600,
  );
  // An existing file keeps its mode: tighten one that others could read.
  const stat = await handle.stat();
  if (stat.isFile() && (stat.mode & 0o077) !== 0) await handle.chmod(0o600);
  return handle;
}

function ignoreMissing(error: NodeJS.ErrnoException): void {
  if (error.code !== "ENOENT") throw error;
}

/**
 * createStreamAuditLog writes audit lines to a stream (`--audit-log -`: stdout),
 * each resolved once the stream has taken it; a stream error, or more than
 * `maxPending` lines waiting on a reader that does not keep up, rejects, so
 * audited calls fail closed as with a file.
 */
export function createStreamAuditLog(
  stream: NodeJS.WritableStream,
  options: { maxPending?: number; now?: () => Date } = {},
): AuditLog {
  const now = options.now ?? (() => new Date());
  const maxPending = options.maxPending ?? 10_000;
  let pending = 0;
  let closed = false;
  return {
    write(entry) {
      if (closed) return Promise.reject(new AuditLogError("the audit log is closed"));
      if (pending >= maxPending) {
        return Promise.reject(new AuditLogError("the audit log is behind: too many lines waiting"));
      }
      pending++;
      const line = formatAuditLine(entry, now());
      return new Promise<void>((resolve, reject) => {
        stream.write(line, (error) => {
          pending--;
          if (error)
            reject(new AuditLogError("the audit stream cannot be written", { cause: error }));
          else resolve();
        });
      });
    },
    async close() {
      closed = true;
    },
  };
}
