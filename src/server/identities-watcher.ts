import { type FSWatcher, watch } from "node:fs";
import { basename, dirname } from "node:path";
import {
  type CredentialStore,
  createStaticCredentialStore,
  type StaticCredential,
  type SwappableCredentialStore,
} from "../auth/credential-store.js";
import { IdentitiesFileError, readIdentitiesFile } from "../auth/identities-file.js";
import type { Logger } from "./logger.js";

/**
 * loadCredentials reads the identities file and returns a store of the root
 * credential and the file's identities. It throws an IdentitiesFileError (no
 * secret in its message) when the file cannot be used, or names the root's
 * access key again.
 */
export async function loadCredentials(
  path: string,
  env: NodeJS.ProcessEnv,
  root: StaticCredential,
): Promise<{ store: CredentialStore; count: number }> {
  const entries = await readIdentitiesFile(path, env);
  if (entries.some((e) => e.identity.accessKey === root.identity.accessKey)) {
    throw new IdentitiesFileError(
      `identities file ${path}: an identity uses the root access key (RUSTFS_ACCESS_KEY)`,
    );
  }
  return { store: createStaticCredentialStore([root, ...entries]), count: entries.length };
}

/** IdentitiesWatcherOptions configure watchIdentities. */
export interface IdentitiesWatcherOptions {
  path: string;
  env: NodeJS.ProcessEnv;
  root: StaticCredential;
  /** The store the edge reads; replaced whole on each good reload. */
  store: SwappableCredentialStore;
  log: Logger;
  /** How long a burst of file events is waited out before reading (100 ms). */
  settleMs?: number;
}

/** IdentitiesWatcher reloads the identities file on demand (SIGHUP) and when it changes. */
export interface IdentitiesWatcher {
  /** reload reads the file again; resolves true when the new identities took effect. */
  reload(reason: string): Promise<boolean>;
  close(): void;
}

/**
 * watchIdentities keeps `store` in step with the identities file. A reload is
 * atomic: the new file is read and checked whole (mode 0600, JSON, every policy)
 * and only then replaces the old identities at once; a file that fails any check
 * is refused with a log line, and the old identities stay in force. The file's
 * directory is watched, not the file, since editors and `mv` replace the file
 * (a new inode) rather than write into it. Reloads never overlap: one asked for
 * during another runs after it.
 */
export function watchIdentities(options: IdentitiesWatcherOptions): IdentitiesWatcher {
  const { path, log } = options;
  const name = basename(path);
  let tail: Promise<boolean> = Promise.resolve(true);
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;

  function reload(reason: string): Promise<boolean> {
    tail = tail.then(async () => {
      try {
        const { store, count } = await loadCredentials(path, options.env, options.root);
        options.store.replace(store);
        log("info", "identities reloaded", { path, identities: count, reason });
        return true;
      } catch (err) {
        const message = err instanceof IdentitiesFileError ? err.message : "cannot be read";
        log("error", "identities file refused; the previous identities stay in force", {
          path,
          reason,
          error: message,
        });
        return false;
      }
    });
    return tail;
  }

  try {
    watcher = watch(dirname(path), { persistent: false }, (_event, file) => {
      if (file !== null && file !== name) return;
      clearTimeout(timer);
      timer = setTimeout(() => void reload("file changed"), options.settleMs ?? 100);
      timer.unref();
    });
    watcher.on("error", (err) => {
      log("warn", "identities file is no longer watched; reload with SIGHUP", {
        path,
        error: err.message,
      });
    });
  } catch (err) {
    log("warn", "identities file cannot be watched; reload with SIGHUP", {
      path,
      error: (err as Error).message,
    });
  }

  return {
    reload,
    close() {
      clearTimeout(timer);
      watcher?.close();
    },
  };
}
