import {
  type BackendCustody,
  ConcurrentUpdateError,
  type KeyBackend,
  type StoredKey,
} from "../../engine/backend.js";
import { KmsError } from "../../engine/errors.js";
import type { VaultBackendConfig } from "../../engine/types.js";
import { createVaultAliasMethods } from "./vault-alias-store.js";
import type { VaultClient } from "./vault-client.js";
import { keyIdOfVaultName, vaultKeyName } from "./vault-key-name.js";
import { decodeVaultKeyRecord, encodeVaultKeyRecord } from "./vault-key-record.js";
import { vaultAttempt as attempt, vaultCall as vault, vaultKmsError } from "./vault-kms-error.js";
import { VaultRequestError } from "./vault-request-error.js";

/** VaultBackend is the Vault KeyBackend, with the start-up check the factory runs. */
export interface VaultBackend extends KeyBackend {
  readonly custody: BackendCustody;
  /**
   * open logs in (token lookup or AppRole login) and checks that Vault is
   * unsealed and that the Transit and KV v2 mounts answer, rejecting with a
   * message that names the part that failed.
   */
  open(): Promise<void>;
}

/**
 * REMEMBERED_REVISIONS bounds the KV versions the backend remembers for
 * check-and-set. A key forgotten between its read and its write gets a
 * ConcurrentUpdateError, and the engine reads it again: never a blind write.
 */
const REMEMBERED_REVISIONS = 10_000;

type VaultPaths = Pick<VaultBackendConfig, "mountPath" | "kvMount" | "keyPathPrefix">;

/**
 * createVaultBackend stores key metadata in KV v2 at
 * `{kv_mount}/data/{key_path_prefix}/{key}` (check-and-set on every write, so
 * replicas sharing one Vault never lose each other's updates) and leaves the
 * material to Transit: one `aes256-gcm96` key per gateway key under
 * `mount_path`, created with it, rotated by Transit, used through
 * encrypt/decrypt with the additional data the engine binds, and deleted
 * (`deletion_allowed`, then DELETE) before the metadata when the key is
 * destroyed. Key material is never read out of Vault.
 */
export function createVaultBackend(paths: VaultPaths, client: VaultClient): VaultBackend {
  const kvData = (keyId: string) =>
    `${paths.kvMount}/data/${paths.keyPathPrefix}/${vaultKeyName(keyId)}`;
  const kvMetadata = (keyId: string) =>
    `${paths.kvMount}/metadata/${paths.keyPathPrefix}/${vaultKeyName(keyId)}`;
  const transitKey = (keyId: string) => `${paths.mountPath}/keys/${vaultKeyName(keyId)}`;
  const transitOp = (op: "encrypt" | "decrypt", keyId: string) =>
    `${paths.mountPath}/${op}/${vaultKeyName(keyId)}`;

  // The KV version each key had when this backend last read or wrote it.
  const revisions = new Map<string, number>();
  function remember(keyId: string, version: unknown): void {
    revisions.delete(keyId);
    if (typeof version !== "number" || !Number.isInteger(version)) return;
    revisions.set(keyId, version);
    if (revisions.size > REMEMBERED_REVISIONS) {
      revisions.delete(revisions.keys().next().value as string);
    }
  }

  async function get(keyId: string): Promise<StoredKey | null> {
    const res = await vault(() => client.read(kvData(keyId)));
    const data = res?.data as { data?: unknown; metadata?: { version?: unknown } } | null;
    if (data === null || data === undefined || data.data === null || data.data === undefined) {
      revisions.delete(keyId);
      return null;
    }
    remember(keyId, data.metadata?.version);
    return decodeVaultKeyRecord(keyId, data.data);
  }

  async function writeRecord(key: StoredKey, cas: number): Promise<VaultRequestError | null> {
    const res = await attempt(() =>
      // Safe to repeat: a repeat of a write that landed fails check-and-set.
      client.write(
        kvData(key.keyId),
        { data: encodeVaultKeyRecord(key), options: { cas } },
        { retry: true },
      ),
    );
    if (res instanceof VaultRequestError) return res;
    remember(key.keyId, res?.data?.version);
    return null;
  }

  const custody: BackendCustody = {
    async rotate(keyId) {
      const rotated = await attempt(() => client.write(`${transitKey(keyId)}/rotate`, {}));
      if (rotated instanceof VaultRequestError) {
        if (rotated.kind === "rejected" || rotated.kind === "not-found") {
          const exists = await vault(() => client.read(transitKey(keyId)));
          if (exists === null) throw keyMaterialGone(keyId);
        }
        throw vaultKmsError(rotated);
      }
      const key = await vault(() => client.read(transitKey(keyId)));
      const latest = key?.data?.latest_version;
      if (typeof latest !== "number" || !Number.isInteger(latest) || latest < 1) {
        throw new KmsError("BACKEND_ERROR", `Vault did not report a version for key "${keyId}"`);
      }
      return latest;
    },
    async wrap(keyId, plaintext, aad) {
      const res = await vault(() =>
        // Encrypting again after a lost answer only makes another ciphertext.
        client.write(
          transitOp("encrypt", keyId),
          {
            plaintext: Buffer.from(plaintext).toString("base64"),
            associated_data: Buffer.from(aad).toString("base64"),
          },
          { retry: true },
        ),
      );
      const ciphertext = res?.data?.ciphertext;
      const version = typeof ciphertext === "string" ? transitVersion(ciphertext) : null;
      if (typeof ciphertext !== "string" || version === null) {
        throw new KmsError("BACKEND_ERROR", `Vault returned no ciphertext for key "${keyId}"`);
      }
      return { version, ciphertext: Buffer.from(ciphertext, "latin1") };
    },
    async unwrap(keyId, ciphertext, aad) {
      const text = Buffer.from(ciphertext).toString("latin1");
      if (transitVersion(text) === null) throw undecryptable();
      const res = await attempt(() =>
        client.write(
          transitOp("decrypt", keyId),
          { ciphertext: text, associated_data: Buffer.from(aad).toString("base64") },
          { retry: true },
        ),
      );
      if (res instanceof VaultRequestError) {
        // Vault answers 400 for a damaged ciphertext or another context: the
        // caller's fault, told apart from Vault failing.
        if (res.kind === "rejected" || res.kind === "not-found") throw undecryptable();
        throw vaultKmsError(res);
      }
      const plaintext = res?.data?.plaintext;
      if (typeof plaintext !== "string") {
        throw new KmsError("BACKEND_ERROR", `Vault returned no plaintext for key "${keyId}"`);
      }
      return Buffer.from(plaintext, "base64");
    },
  };

  return {
    custody,
    ...createVaultAliasMethods(paths, client),

    async open() {
      await step("logging in to Vault", () => client.login());
      const health = await step("reading sys/health", () => client.health());
      if (health.sealed) throw new KmsError("BACKEND_UNAVAILABLE", "Vault is sealed");
      await step(`listing the Transit mount "${paths.mountPath}"`, () =>
        client.list(`${paths.mountPath}/keys`),
      );
      await step(`listing the KV v2 mount "${paths.kvMount}" at "${paths.keyPathPrefix}"`, () =>
        client.list(`${paths.kvMount}/metadata/${paths.keyPathPrefix}`),
      );
    },

    async health() {
      const health = await vault(() => client.health());
      if (health.sealed) throw new KmsError("BACKEND_UNAVAILABLE", "Vault is sealed");
      // A valid token (lookup-self needs no policy) tells a usable Vault from a reachable one.
      await vault(() => client.read("auth/token/lookup-self"));
    },

    async create(key) {
      // Transit first: a key whose metadata exists always has its material.
      // Creating an existing Transit key changes nothing.
      await vault(() => client.write(transitKey(key.keyId), { type: "aes256-gcm96" }));
      const failed = await writeRecord(key, 0);
      if (failed === null) return;
      if (failed.kind !== "conflict") throw vaultKmsError(failed);
      // A retried write whose first attempt landed conflicts with itself.
      const existing = await get(key.keyId);
      if (existing !== null && sameRecord(existing, key)) return;
      throw new KmsError("KEY_EXISTS", `key "${key.keyId}" already exists`);
    },

    get,

    async put(key) {
      const cas = revisions.get(key.keyId);
      if (cas === undefined) {
        if ((await get(key.keyId)) === null) throw notFound(key.keyId);
        // Read now, but not by the caller: its change may rest on older data.
        throw new ConcurrentUpdateError(key.keyId);
      }
      const failed = await writeRecord(key, cas);
      if (failed === null) return;
      if (failed.kind !== "conflict") throw vaultKmsError(failed);
      revisions.delete(key.keyId);
      if ((await get(key.keyId)) === null) throw notFound(key.keyId);
      throw new ConcurrentUpdateError(key.keyId, { cause: failed });
    },

    async list(after, limit) {
      const names = await vault(() =>
        client.list(`${paths.kvMount}/metadata/${paths.keyPathPrefix}`),
      );
      // Vault lists a folder at once; the page is cut here, in byte order.
      const ids = names
        .filter((name) => !name.endsWith("/"))
        .map(keyIdOfVaultName)
        .filter((id): id is string => id !== null && (after === null || byteCompare(id, after) > 0))
        .sort(byteCompare);
      return { ids: ids.slice(0, limit), more: ids.length > limit };
    },

    async destroy(keyId) {
      // The material first: a destroy cut short leaves the record, and the next
      // sweep finishes it; the reverse would leave material no record names.
      const transit = await vault(() => client.read(transitKey(keyId)));
      if (transit !== null) {
        await vault(() =>
          client.write(`${transitKey(keyId)}/config`, { deletion_allowed: true }, { retry: true }),
        );
        const deleted = await attempt(() => client.delete(transitKey(keyId)));
        if (deleted instanceof VaultRequestError) {
          const still = await vault(() => client.read(transitKey(keyId)));
          if (still !== null) throw vaultKmsError(deleted);
        }
      }
      const removed = await attempt(() => client.delete(kvMetadata(keyId)));
      if (removed instanceof VaultRequestError && removed.kind !== "not-found") {
        throw vaultKmsError(removed);
      }
      revisions.delete(keyId);
    },

    async readKeyring() {
      return null;
    },

    async writeKeyring() {
      throw new KmsError(
        "BACKEND_ERROR",
        "the vault backend holds its material and keeps no keyring",
      );
    },

    async close() {
      client.close();
      revisions.clear();
    },
  };
}

/** step runs one part of the start-up check; its failure names that part. */
async function step<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    const mapped = vaultKmsError(error);
    const detail =
      error instanceof VaultRequestError && error.kind === "not-found"
        ? "not found (is the mount enabled, and is the path right?)"
        : mapped.message;
    throw new KmsError(mapped.code, `Vault check failed while ${what}: ${detail}`, {
      cause: error,
    });
  }
}

/** transitVersion reads N from a `vault:vN:…` ciphertext, or null when it is not one. */
function transitVersion(ciphertext: string): number | null {
  const match = /^vault:v([1-9][0-9]{0,9}):[A-Za-z0-9+/=]+$/.exec(ciphertext);
  const version = match === null ? Number.NaN : Number(match[1]);
  return Number.isSafeInteger(version) && version <= 0xffff_ffff ? version : null;
}

function sameRecord(a: StoredKey, b: StoredKey): boolean {
  return (
    JSON.stringify(encodeVaultKeyRecord(a)) === JSON.stringify(encodeVaultKeyRecord(b)) &&
    a.keyId === b.keyId
  );
}

function byteCompare(a: string, b: string): number {
  // Key ids are ASCII, so UTF-16 order is byte order.
  return a < b ? -1 : a > b ? 1 : 0;
}

function notFound(keyId: string): KmsError {
  return new KmsError("KEY_NOT_FOUND", `key "${keyId}" not found`);
}

function keyMaterialGone(keyId: string): KmsError {
  return new KmsError("KEY_NOT_FOUND", `the Transit key of "${keyId}" does not exist`);
}

function undecryptable(): KmsError {
  return new KmsError("INVALID_CIPHERTEXT", "Vault could not decrypt the ciphertext");
}
