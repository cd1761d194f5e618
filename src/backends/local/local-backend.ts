import { constants, promises as fsp } from "node:fs";
import { join } from "node:path";
import type { BackendFactory, KeyBackend, StoredKey } from "../../engine/backend.js";
import { KmsError } from "../../engine/errors.js";
import { acquireDirLock } from "./dir-lock.js";
import { errnoCode } from "./errno-code.js";
import { decodeKeyRecord, encodeKeyRecord } from "./key-record.js";
import { type AliasDirState, createAliasMethods, loadAliasDir } from "./local-alias-files.js";
import { describeErrno, preparePrivateDirectory } from "./private-directory.js";
import { readBoundedFile } from "./read-bounded-file.js";
import { createSortedIdIndex, type SortedIdIndex } from "./sorted-id-index.js";
import {
  fsyncDirectory,
  isTempFileName,
  writeFileAtomic,
  writeTempFile,
} from "./write-file-atomic.js";

/** LocalBackendOptions configures createLocalBackend. `keyDir` must be an absolute path. */
export interface LocalBackendOptions {
  keyDir: string;
}

/** KEY_FILE_SUFFIX ends every key file's name: `<keyDir>/<keyId>.key.json`. */
export const KEY_FILE_SUFFIX = ".key.json";

/** KEYRING_FILE_NAME is the file holding the keyring bytes; it never ends in KEY_FILE_SUFFIX. */
export const KEYRING_FILE_NAME = "keyring.bin";

// Same rule as the engine's; repeated here because a file name is built from it.
// With the suffix appended, even `.` and `..` name plain files inside keyDir.
const KEY_ID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;
// Bound what a tampered file can make us read.
const MAX_KEY_FILE_BYTES = 8 * 1024 * 1024;
const MAX_KEYRING_BYTES = 1024 * 1024;
// Queue name for keyring writes; contains "/", so it can never be a key id.
const KEYRING_QUEUE = "/keyring";

/** The state of one open key directory, shared by every backend on it in this process. */
interface KeyDirState {
  dir: string;
  index: SortedIdIndex;
  /** The aliases, in `<keyDir>/aliases`. */
  aliases: AliasDirState;
  /** Tail of the write queue per key id, so writes to one key never interleave. */
  queues: Map<string, Promise<void>>;
}

interface OpenKeyDir {
  refs: number;
  state: Promise<KeyDirState>;
}

// One state per real directory: the engine may open a candidate backend on the
// same key_dir while the running one still serves (reconfigure). Sharing keeps
// their indexes and write queues one, and the second open must not delete temp
// files the first one is still writing.
const openKeyDirs = new Map<string, OpenKeyDir>();

/**
 * createLocalBackend opens (creating it with mode 0700 if needed) a key
 * directory and returns a KeyBackend over it. Each key is one JSON file
 * `<keyId>.key.json` (mode 0600) written atomically and durably; the keyring is
 * `keyring.bin`; each alias one JSON file in `aliases/` (see
 * local-alias-files.ts). At open the directory is listed once (leftover temp files are
 * removed, key ids indexed); a key file is read only when its key is asked
 * for, so opening reads no key files and an unreadable one affects only its
 * own key (`get` rejects with BACKEND_ERROR). Rejects with INVALID_ARGUMENT for
 * a `keyDir` that can never work (relative, under /proc, /sys or /dev, not a
 * directory), with CONFIG_CONFLICT when another process holds the directory's
 * lock (one process per directory; backends in this process share it), and
 * with BACKEND_ERROR when the directory cannot be prepared or read.
 */
export async function createLocalBackend(options: LocalBackendOptions): Promise<KeyBackend> {
  const keyDir = options.keyDir;
  const { realDir } = await preparePrivateDirectory(keyDir, "key_dir");
  // Another process on this directory would silently diverge from us (its
  // index, its queues); a second hold in this process shares the lock.
  const lock = await acquireDirLock(realDir, "key_dir", keyDir);

  let entry = openKeyDirs.get(realDir);
  if (entry === undefined) {
    entry = { refs: 0, state: loadKeyDir(realDir) };
    openKeyDirs.set(realDir, entry);
  }
  const opened = entry;
  opened.refs += 1;
  let state: KeyDirState;
  try {
    state = await opened.state;
  } catch (error) {
    release(realDir, opened);
    await lock.release();
    throw error;
  }
  return createHandle(state, async () => {
    release(realDir, opened);
    await lock.release();
  });
}

/**
 * localBackendFactory is the BackendFactory for `backendType: "local"`: it opens
 * `config.backend.keyDir`. Rejects with INVALID_ARGUMENT for another backend type.
 */
export const localBackendFactory: BackendFactory = async (config) => {
  if (config.backend.backendType !== "local") {
    throw new KmsError("INVALID_ARGUMENT", "the local backend factory needs a local configuration");
  }
  return createLocalBackend({ keyDir: config.backend.keyDir });
};

function release(realDir: string, entry: OpenKeyDir): void {
  entry.refs -= 1;
  if (entry.refs === 0 && openKeyDirs.get(realDir) === entry) openKeyDirs.delete(realDir);
}

// Directory entries read per getdents batch at open.
const READDIR_BATCH = 1024;

async function loadKeyDir(dir: string): Promise<KeyDirState> {
  const ids: string[] = [];
  const temps: string[] = [];
  try {
    // Streamed, not readdir(): at 100,000 keys one array of every Dirent
    // would grow the heap by tens of MB that the process then keeps.
    for await (const entry of await fsp.opendir(dir, { bufferSize: READDIR_BATCH })) {
      const name = entry.name;
      if (isTempFileName(name)) {
        temps.push(name);
        continue;
      }
      if (!name.endsWith(KEY_FILE_SUFFIX) || !entry.isFile()) continue;
      const id = name.slice(0, -KEY_FILE_SUFFIX.length);
      if (KEY_ID_PATTERN.test(id)) ids.push(id);
    }
  } catch (cause) {
    throw new KmsError("BACKEND_ERROR", `cannot read key directory ${dir}`, { cause });
  }
  try {
    // A crash between writing and publishing a file leaves these behind.
    for (const name of temps) await fsp.rm(join(dir, name), { force: true });
    if (temps.length > 0) await fsyncDirectory(dir);
  } catch (cause) {
    throw new KmsError("BACKEND_ERROR", `cannot clean up temp files in key directory ${dir}`, {
      cause,
    });
  }
  const aliases = await loadAliasDir(dir);
  return { dir, index: createSortedIdIndex(ids), aliases, queues: new Map() };
}

function keyPath(state: KeyDirState, keyId: string): string {
  return join(state.dir, `${keyId}${KEY_FILE_SUFFIX}`);
}

function checkKeyId(keyId: unknown): string {
  if (typeof keyId !== "string" || !KEY_ID_PATTERN.test(keyId)) {
    throw new KmsError("INVALID_ARGUMENT", "key id must be 1-128 characters of A-Z a-z 0-9 . _ -");
  }
  return keyId;
}

function encodeKey(key: StoredKey): string {
  try {
    return encodeKeyRecord(key);
  } catch (cause) {
    throw new KmsError("INVALID_ARGUMENT", "the key record is invalid", { cause });
  }
}

/** Reads and decodes one key file; null when it is gone. Throws on I/O or decode errors. */
async function readKeyFile(state: KeyDirState, keyId: string): Promise<StoredKey | null> {
  const bytes = await readBoundedFile(keyPath(state, keyId), MAX_KEY_FILE_BYTES);
  if (bytes === null) return null;
  return decodeKeyRecord(bytes.toString("utf8"), keyId);
}

/** Runs `task` after every earlier task queued under `name`. */
function enqueue<T>(state: KeyDirState, name: string, task: () => Promise<T>): Promise<T> {
  const previous = state.queues.get(name) ?? Promise.resolve();
  const result = previous.then(task);
  const tail = result.then(
    () => undefined,
    () => undefined,
  );
  state.queues.set(name, tail);
  void tail.then(() => {
    if (state.queues.get(name) === tail) state.queues.delete(name);
  });
  return result;
}

/**
 * toBackendError maps a failure to BACKEND_ERROR. A file-system error adds its
 * reason ("no space left on device (ENOSPC)", "read-only file system (EROFS)"),
 * so the 500 a caller gets says what an operator must fix; the reason is
 * derived from the errno code alone, never from a path or file content.
 */
function toBackendError(error: unknown, message: string): KmsError {
  if (error instanceof KmsError) return error;
  const reason = errnoCode(error) === undefined ? "" : `: ${describeErrno(error)}`;
  return new KmsError("BACKEND_ERROR", `${message}${reason}`, { cause: error });
}

function createHandle(state: KeyDirState, onClose: () => Promise<void>): KeyBackend {
  let closed = false;
  const inFlight = new Set<Promise<unknown>>();
  const aliases = createAliasMethods(state.aliases, state.dir, (name, task) =>
    enqueue(state, name, task),
  );

  /** Runs one call: refuses after close, tracks it for close, and maps every error to KmsError. */
  function call<T>(failure: string, body: () => Promise<T>): Promise<T> {
    if (closed) return Promise.reject(new KmsError("BACKEND_ERROR", "the local backend is closed"));
    const run = (async () => {
      try {
        return await body();
      } catch (error) {
        throw toBackendError(error, failure);
      }
    })();
    inFlight.add(run);
    void run.then(
      () => inFlight.delete(run),
      () => inFlight.delete(run),
    );
    return run;
  }

  return {
    health() {
      return call(`key directory ${state.dir} is not usable`, async () => {
        const stats = await fsp.stat(state.dir);
        if (!stats.isDirectory()) throw new Error("not a directory");
        await fsp.access(state.dir, constants.R_OK | constants.W_OK | constants.X_OK);
      });
    },

    create(key) {
      return call("cannot write key file", async () => {
        const keyId = checkKeyId(key.keyId);
        const text = encodeKey(key);
        await enqueue(state, keyId, async () => {
          if (state.index.has(keyId))
            throw new KmsError("KEY_EXISTS", "a key with that id already exists");
          const target = keyPath(state, keyId);
          const temp = await writeTempFile(target, text);
          try {
            // link() never replaces an existing file, unlike rename(): the file
            // system, not only our index, refuses a duplicate.
            await fsp.link(temp, target);
          } catch (error) {
            if (errnoCode(error) === "EEXIST") {
              throw new KmsError("KEY_EXISTS", "a key with that id already exists");
            }
            throw error;
          } finally {
            await fsp.rm(temp, { force: true });
          }
          state.index.insert(keyId);
          await fsyncDirectory(state.dir);
        });
      });
    },

    get(keyId) {
      return call("cannot read key file", async () => {
        const id = checkKeyId(keyId);
        if (!state.index.has(id)) return null;
        try {
          return await readKeyFile(state, id);
        } catch (cause) {
          throw new KmsError("BACKEND_ERROR", `key file for "${id}" is unreadable`, { cause });
        }
      });
    },

    put(key) {
      return call("cannot write key file", async () => {
        const keyId = checkKeyId(key.keyId);
        const text = encodeKey(key);
        await enqueue(state, keyId, async () => {
          if (!state.index.has(keyId)) throw new KmsError("KEY_NOT_FOUND", "no key has that id");
          await writeFileAtomic(keyPath(state, keyId), text, { mode: 0o600 });
        });
      });
    },

    list(after, limit) {
      return call("cannot list keys", async () => {
        if (!Number.isSafeInteger(limit) || limit < 0) {
          throw new KmsError("INVALID_ARGUMENT", "limit must be a non-negative integer");
        }
        if (after !== null && typeof after !== "string") {
          throw new KmsError("INVALID_ARGUMENT", "after must be a string or null");
        }
        return state.index.page(after, limit);
      });
    },

    destroy(keyId) {
      return call("cannot delete key file", async () => {
        const id = checkKeyId(keyId);
        await enqueue(state, id, async () => {
          try {
            await fsp.unlink(keyPath(state, id));
          } catch (error) {
            if (errnoCode(error) !== "ENOENT") throw error;
          }
          state.index.remove(id);
          await fsyncDirectory(state.dir);
        });
      });
    },

    createAlias: (alias) => call("cannot write alias file", () => aliases.createAlias(alias)),
    getAlias: (name) => call("cannot read alias file", () => aliases.getAlias(name)),
    putAlias: (alias) => call("cannot write alias file", () => aliases.putAlias(alias)),
    deleteAlias: (name) => call("cannot delete alias file", () => aliases.deleteAlias(name)),
    listAliases: (after, limit) =>
      call("cannot list aliases", () => aliases.listAliases(after, limit)),

    readKeyring() {
      return call("cannot read keyring file", async () => {
        const bytes = await readBoundedFile(join(state.dir, KEYRING_FILE_NAME), MAX_KEYRING_BYTES);
        return bytes === null ? null : new Uint8Array(bytes);
      });
    },

    writeKeyring(bytes) {
      return call("cannot write keyring file", async () => {
        const copy = Uint8Array.from(bytes);
        await enqueue(state, KEYRING_QUEUE, () =>
          writeFileAtomic(join(state.dir, KEYRING_FILE_NAME), copy, { mode: 0o600 }),
        );
      });
    },

    async close() {
      if (closed) return;
      closed = true;
      await Promise.allSettled([...inFlight]);
      await onClose();
    },
  };
}
