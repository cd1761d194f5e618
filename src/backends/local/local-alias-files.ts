import { promises as fsp } from "node:fs";
import { join } from "node:path";
import { checkAliasName, type KeyBackend } from "../../engine/backend.js";
import { KmsError } from "../../engine/errors.js";
import type { AliasEntry } from "../../engine/types.js";
import {
  aliasFileName,
  aliasNameOfFile,
  decodeAliasRecord,
  encodeAliasRecord,
} from "./alias-record.js";
import { errnoCode } from "./errno-code.js";
import { readBoundedFile } from "./read-bounded-file.js";
import { createSortedIdIndex, type SortedIdIndex } from "./sorted-id-index.js";
import {
  fsyncDirectory,
  isTempFileName,
  writeFileAtomic,
  writeTempFile,
} from "./write-file-atomic.js";

/** ALIAS_DIR_NAME is the subdirectory of key_dir holding one file per alias; key listing skips directories. */
export const ALIAS_DIR_NAME = "aliases";

// An alias file is a few hundred bytes; bound what a tampered one can make us read.
const MAX_ALIAS_FILE_BYTES = 64 * 1024;

/** AliasMethods are the alias half of the KeyBackend contract. */
export type AliasMethods = Pick<
  KeyBackend,
  "createAlias" | "getAlias" | "putAlias" | "deleteAlias" | "listAliases"
>;

/** AliasDirState is the alias directory of one key_dir, shared by its backends in this process. */
export interface AliasDirState {
  dir: string;
  /** The alias names, sorted, so a page costs O(log n + limit). */
  index: SortedIdIndex;
  /** Whether the directory is known to exist (it is made at the first create). */
  exists: boolean;
}

/**
 * loadAliasDir lists `<keyDir>/aliases` once (when it exists), indexing the
 * alias names and removing temp files a crash left there. No alias file is read.
 */
export async function loadAliasDir(keyDir: string): Promise<AliasDirState> {
  const dir = join(keyDir, ALIAS_DIR_NAME);
  const names: string[] = [];
  const temps: string[] = [];
  try {
    const stats = await fsp.lstat(dir);
    if (!stats.isDirectory()) throw new Error(`${dir} is not a directory`);
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return { dir, index: createSortedIdIndex(), exists: false };
    throw new KmsError("BACKEND_ERROR", `cannot use alias directory ${dir}`, { cause: error });
  }
  try {
    for await (const entry of await fsp.opendir(dir, { bufferSize: 1024 })) {
      if (isTempFileName(entry.name)) {
        temps.push(entry.name);
        continue;
      }
      const name = entry.isFile() ? aliasNameOfFile(entry.name) : null;
      if (name !== null) names.push(name);
    }
    for (const temp of temps) await fsp.rm(join(dir, temp), { force: true });
    if (temps.length > 0) await fsyncDirectory(dir);
  } catch (cause) {
    throw new KmsError("BACKEND_ERROR", `cannot read alias directory ${dir}`, { cause });
  }
  return { dir, index: createSortedIdIndex(names), exists: true };
}

/** Enqueue runs a task after every earlier task queued under the same name. */
type Enqueue = <T>(name: string, task: () => Promise<T>) => Promise<T>;

/**
 * createAliasMethods stores each alias as one 0600 JSON file in the alias
 * directory, written the way key files are: create is temp file → fsync →
 * link (no clobber) → fsync of the directory, put is an atomic rename, delete
 * an unlink with the directory fsynced. Writes to one alias are queued behind
 * each other with `enqueue` (alias names contain `/`, so they never collide
 * with a key id's queue).
 */
export function createAliasMethods(
  state: AliasDirState,
  keyDir: string,
  enqueue: Enqueue,
): AliasMethods {
  const pathOf = (name: string) => join(state.dir, aliasFileName(name));

  async function ensureDir(): Promise<void> {
    if (state.exists) return;
    try {
      await fsp.mkdir(state.dir, { mode: 0o700 });
    } catch (error) {
      if (errnoCode(error) !== "EEXIST") throw error;
    }
    // A symbolic link planted here would send alias files elsewhere.
    const stats = await fsp.lstat(state.dir);
    if (!stats.isDirectory()) throw new Error(`${state.dir} is not a directory`);
    await fsyncDirectory(keyDir);
    state.exists = true;
  }

  async function read(name: string): Promise<AliasEntry | null> {
    if (!state.index.has(name)) return null;
    let bytes: Buffer | null;
    try {
      bytes = await readBoundedFile(pathOf(name), MAX_ALIAS_FILE_BYTES);
      if (bytes === null) return null;
      return decodeAliasRecord(bytes.toString("utf8"), name);
    } catch (cause) {
      throw new KmsError("BACKEND_ERROR", `alias file for "${name}" is unreadable`, { cause });
    }
  }

  return {
    async createAlias(alias) {
      const name = checkAliasName(alias.aliasName);
      const text = encode(alias);
      await enqueue(name, async () => {
        if (state.index.has(name)) throw aliasExists(name);
        await ensureDir();
        const target = pathOf(name);
        const temp = await writeTempFile(target, text);
        try {
          await fsp.link(temp, target);
        } catch (error) {
          if (errnoCode(error) === "EEXIST") throw aliasExists(name);
          throw error;
        } finally {
          await fsp.rm(temp, { force: true });
        }
        state.index.insert(name);
        await fsyncDirectory(state.dir);
      });
    },

    getAlias: (aliasName) => read(checkAliasName(aliasName)),

    async putAlias(alias) {
      const name = checkAliasName(alias.aliasName);
      const text = encode(alias);
      await enqueue(name, async () => {
        if (!state.index.has(name)) throw aliasNotFound(name);
        await writeFileAtomic(pathOf(name), text, { mode: 0o600 });
      });
    },

    async deleteAlias(aliasName) {
      const name = checkAliasName(aliasName);
      await enqueue(name, async () => {
        if (!state.index.has(name)) return;
        try {
          await fsp.unlink(pathOf(name));
        } catch (error) {
          if (errnoCode(error) !== "ENOENT") throw error;
        }
        state.index.remove(name);
        await fsyncDirectory(state.dir);
      });
    },

    async listAliases(after, limit) {
      if (!Number.isSafeInteger(limit) || limit < 0) {
        throw new KmsError("INVALID_ARGUMENT", "limit must be a non-negative integer");
      }
      const page = state.index.page(after, limit);
      const aliases: AliasEntry[] = [];
      for (const name of page.ids) {
        const alias = await read(name);
        if (alias !== null) aliases.push(alias);
      }
      return { aliases, more: page.more };
    },
  };
}

function encode(alias: AliasEntry): string {
  try {
    return encodeAliasRecord(alias);
  } catch (cause) {
    throw new KmsError("INVALID_ARGUMENT", "the alias record is invalid", { cause });
  }
}

function aliasExists(name: string): KmsError {
  return new KmsError("KEY_EXISTS", `alias "${name}" already exists`);
}

function aliasNotFound(name: string): KmsError {
  return new KmsError("KEY_NOT_FOUND", `alias "${name}" not found`);
}
