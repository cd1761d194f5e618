import { KmsError } from "./errors.js";
import type { AliasEntry, KeyState, KmsConfig, RotationType } from "./types.js";

/**
 * StoredKeyVersion is one version of a key. Under engine custody (no
 * `KeyBackend.custody`) `sealedMaterial` is the version's material sealed by
 * the engine under its key-encryption key; under backend custody it is empty,
 * since the material never leaves the backend. Backends store it as opaque bytes.
 */
export interface StoredKeyVersion {
  version: number;
  sealedMaterial: Uint8Array;
  createdAt: Date;
  /**
   * What made a version after the first: the rotation schedule or a caller.
   * Absent on version 1 and on versions written before automatic rotation
   * existed, which were all ON_DEMAND.
   */
  rotationType?: RotationType;
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
  /**
   * Automatic rotation: the period (90–2560 days) and the date the next
   * rotation is due, both set or both absent/null (rotation off). Records
   * written before automatic rotation existed have neither.
   */
  rotationPeriodInDays?: number | null;
  nextRotationDate?: Date | null;
  /**
   * When a gateway claimed the due automatic rotation it is carrying out
   * (rotation-sweep.ts): set together with the next date by one check-and-set
   * write, so of two replicas only one rotates for one due date; cleared with
   * the new version. A claim older than a grace period is taken over.
   */
  rotationClaimedAt?: Date | null;
}

/**
 * BackendCustody is the custody half of a backend that holds key material
 * itself (Vault Transit): the material is created, rotated, used and destroyed
 * inside the backend and never reaches the engine. Every method rejects only
 * with KmsError: KEY_NOT_FOUND when the backend holds no material for the key,
 * BACKEND_UNAVAILABLE when the backend cannot be reached (or is failing fast),
 * BACKEND_ERROR for any other backend failure (the real error as `cause`),
 * plus the codes named on each method.
 */
export interface BackendCustody {
  /** rotate adds a version to the key's material and resolves to the new version's number. */
  rotate(keyId: string): Promise<number>;
  /**
   * wrap encrypts `plaintext` under the newest version of the key's material
   * with `aad` bound (a different `aad` must fail to unwrap), and resolves to
   * the version used and the backend's ciphertext (opaque bytes, never the plaintext).
   */
  wrap(
    keyId: string,
    plaintext: Uint8Array,
    aad: Uint8Array,
  ): Promise<{ version: number; ciphertext: Uint8Array }>;
  /**
   * unwrap decrypts what wrap made for the same key and `aad`; the caller owns
   * (and zeroises) the result. INVALID_CIPHERTEXT when the ciphertext is not
   * one of the key's, is damaged, or was bound to another `aad`.
   */
  unwrap(keyId: string, ciphertext: Uint8Array, aad: Uint8Array): Promise<Buffer>;
}

/**
 * ConcurrentUpdateError is what `KeyBackend.put` rejects with when the key was
 * changed by someone else (another replica) since this backend last read it:
 * the write did not happen. The engine reads the key again and re-applies its
 * change; the code is BACKEND_ERROR so a caller that still sees it (after the
 * engine's retries) gets a 500 that says what happened.
 */
export class ConcurrentUpdateError extends KmsError {
  constructor(keyId: string, options?: { cause?: unknown }) {
    super(
      "BACKEND_ERROR",
      `key "${keyId}" was changed concurrently by another gateway; retry the operation`,
      options,
    );
  }
}

/**
 * KeyBackend is the engine's backend contract, in two parts. Metadata storage
 * (create, get, put, list, destroy: description, tags, state, dates,
 * versions) is every backend's. Custody of the material is either the
 * engine's (no `custody`: the engine seals each version's material under a
 * key-encryption key derived from the master key, kept through
 * readKeyring/writeKeyring, and wraps data keys in its own envelope — the
 * local backend) or the backend's (`custody` present — Vault Transit). Every
 * method rejects only with KmsError: `BACKEND_ERROR` for I/O or remote
 * failures (the real error as `cause`), `BACKEND_UNAVAILABLE` when a remote
 * backend cannot be reached, plus the codes named on each method.
 */
export interface KeyBackend {
  /**
   * custody, when present, says the backend holds the key material: `create`
   * then also creates the key's first version of material, `destroy` destroys
   * all of it, versions' `sealedMaterial` are empty, and the keyring is unused.
   */
  readonly custody?: BackendCustody;
  /** health resolves when the backend can serve requests, else rejects with BACKEND_ERROR. */
  health(): Promise<void>;
  /**
   * create stores `key` if and only if no key with that id exists. Otherwise it
   * rejects with KEY_EXISTS. The write is durable when the promise resolves.
   */
  create(key: StoredKey): Promise<void>;
  /** get returns the key, or null when no key has that id. */
  get(keyId: string): Promise<StoredKey | null>;
  /**
   * put replaces an existing key durably; KEY_NOT_FOUND when there is none.
   * A backend shared by several gateways rejects with ConcurrentUpdateError
   * (and writes nothing) when the key changed since this backend last read it.
   */
  put(key: StoredKey): Promise<void>;
  /**
   * list returns up to `limit` key ids greater than `after` (exclusive; null =
   * from the start) in ascending byte order, and whether more ids follow. Its
   * cost is bounded by `limit`, not by the number of keys.
   */
  list(after: string | null, limit: number): Promise<{ ids: string[]; more: boolean }>;
  /**
   * destroy removes a key and its material for good (under backend custody the
   * material first, so a half-done destroy is finished by the next attempt); a
   * missing key is not an error.
   */
  destroy(keyId: string): Promise<void>;
  /**
   * createAlias stores `alias` if and only if no alias of that name exists
   * (also across gateways sharing the backend). Otherwise it rejects with
   * KEY_EXISTS. Alias names are `alias/` + 1–250 of [A-Za-z0-9/_-]; the
   * backend encodes them one-to-one into its own names. Durable on resolve.
   */
  createAlias(alias: AliasEntry): Promise<void>;
  /** getAlias returns the alias of that name, or null when there is none. */
  getAlias(aliasName: string): Promise<AliasEntry | null>;
  /**
   * putAlias replaces an existing alias durably; KEY_NOT_FOUND when there is
   * none (it never creates one, so a concurrent delete wins).
   */
  putAlias(alias: AliasEntry): Promise<void>;
  /** deleteAlias removes an alias; a missing one is not an error. */
  deleteAlias(aliasName: string): Promise<void>;
  /**
   * listAliases returns up to `limit` aliases whose names are greater than
   * `after` (exclusive; null = from the start) in ascending byte order, and
   * whether more follow. Its cost is bounded by `limit` reads (an alias
   * removed between the listing and its read is left out).
   */
  listAliases(
    after: string | null,
    limit: number,
  ): Promise<{ aliases: AliasEntry[]; more: boolean }>;
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
 * ALIAS_NAME_PATTERN is what an alias name is (AWS's rule): `alias/` and 1–250
 * of `A-Z a-z 0-9 / _ -`. Backends build their storage names from it.
 */
export const ALIAS_NAME_PATTERN = /^alias\/[A-Za-z0-9/_-]{1,250}$/;

/** isAliasName tells whether a value matches ALIAS_NAME_PATTERN. */
export function isAliasName(value: unknown): value is string {
  return typeof value === "string" && ALIAS_NAME_PATTERN.test(value);
}

/**
 * checkAliasName returns an alias name a backend is asked to store or read, or
 * rejects it with INVALID_ARGUMENT: a backend never builds a storage name from
 * anything else, whoever calls it.
 */
export function checkAliasName(name: unknown): string {
  if (!isAliasName(name)) {
    throw new KmsError(
      "INVALID_ARGUMENT",
      "alias name must be alias/ and 1-250 of A-Z a-z 0-9 / _ -",
    );
  }
  return name;
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
