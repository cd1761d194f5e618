import type { KeyState, KmsConfig } from "./types.js";

/**
 * StoredKeyVersion is one version of a key's material, sealed by the engine
 * under the backend's key-encryption key. Backends store it as opaque bytes.
 */
export interface StoredKeyVersion {
  version: number;
  sealedMaterial: Uint8Array;
  createdAt: Date;
}

/**
 * StoredKey is everything a backend keeps about one master key. The engine
 * owns its meaning; a backend only stores and fetches it.
 */
export interface StoredKey {
  keyId: string;
  description: string | null;
  keyState: KeyState;
  /** The state to restore when a pending deletion is cancelled. */
  stateBeforeDeletion: KeyState | null;
  creationDate: Date;
  deletionDate: Date | null;
  tags: Record<string, string>;
  /** Ascending by `version`; the last one is the current version. Never empty. */
  versions: StoredKeyVersion[];
}

/**
 * KeyBackend stores master keys. Every method rejects only with KmsError:
 * `BACKEND_ERROR` for I/O or remote failures (the real error as `cause`),
 * plus the codes named on each method.
 */
export interface KeyBackend {
  /** health resolves when the backend can serve requests, else rejects with BACKEND_ERROR. */
  health(): Promise<void>;
  /**
   * create stores `key` if and only if no key with that id exists. Otherwise it
   * rejects with KEY_EXISTS. The write is durable when the promise resolves.
   */
  create(key: StoredKey): Promise<void>;
  /** get returns the key, or null when no key has that id. */
  get(keyId: string): Promise<StoredKey | null>;
  /** put replaces an existing key durably; KEY_NOT_FOUND when there is none. */
  put(key: StoredKey): Promise<void>;
  /**
   * list returns up to `limit` key ids greater than `after` (exclusive; null =
   * from the start) in ascending byte order, and whether more ids follow. Its
   * cost is bounded by `limit`, not by the number of keys.
   */
  list(after: string | null, limit: number): Promise<{ ids: string[]; more: boolean }>;
  /** destroy removes a key and its material for good; a missing key is not an error. */
  destroy(keyId: string): Promise<void>;
  /**
   * readKeyring returns the bytes last given to writeKeyring, or null. The
   * engine keeps there what it needs to derive and check its key-encryption key
   * (a salt and a check value — never a secret).
   */
  readKeyring(): Promise<Uint8Array | null>;
  /** writeKeyring stores the keyring bytes durably. */
  writeKeyring(bytes: Uint8Array): Promise<void>;
  /** close releases the backend's resources. */
  close(): Promise<void>;
}

/**
 * BackendFactory opens the backend a configuration names. It rejects with
 * BACKEND_ERROR when the backend cannot be opened (and with INVALID_ARGUMENT
 * when the configuration cannot work, e.g. a relative key_dir).
 */
export type BackendFactory = (config: KmsConfig) => Promise<KeyBackend>;

/**
 * PersistedState is what survives a restart: the configuration (with its
 * secrets) and whether the service was running.
 */
export interface PersistedState {
  config: KmsConfig;
  running: boolean;
  /**
   * A master key the engine generated because none was configured (base64).
   * Secret; kept only in the 0600 state file.
   */
  generatedMasterKey: string | null;
}

/**
 * StateStore persists the engine's lifecycle state. `save` is atomic and
 * durable (temp file, fsync, rename) and the stored file is mode 0600.
 */
export interface StateStore {
  /** load returns the last saved state, or null when none was saved. */
  load(): Promise<PersistedState | null>;
  /** save replaces the stored state. Rejects with BACKEND_ERROR on I/O failure. */
  save(state: PersistedState): Promise<void>;
}

/**
 * SYSTEM_DIRECTORY_ROOTS are the kernel's virtual file systems. A key_dir or
 * data dir under one of them can never hold files (Node's recursive mkdir even
 * loops forever on /proc), so the engine refuses such a path when it is given
 * and the local backend again once symbolic links are resolved.
 */
export const SYSTEM_DIRECTORY_ROOTS = ["/proc", "/sys", "/dev"] as const;

/** isUnderSystemRoot tells whether a normalized absolute path is, or is under, a SYSTEM_DIRECTORY_ROOT. */
export function isUnderSystemRoot(path: string): boolean {
  return SYSTEM_DIRECTORY_ROOTS.some((root) => path === root || path.startsWith(`${root}/`));
}
