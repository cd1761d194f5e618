import { randomBytes } from "node:crypto";
import { checkAliasName, isAliasName, type KeyBackend } from "../../engine/backend.js";
import { KmsError } from "../../engine/errors.js";
import type { AliasEntry } from "../../engine/types.js";
import type { VaultClient } from "./vault-client.js";
import { vaultAttempt as attempt, vaultCall as vault, vaultKmsError } from "./vault-kms-error.js";
import { VaultRequestError } from "./vault-request-error.js";

/** VaultAliasMethods are the alias half of the KeyBackend contract. */
export type VaultAliasMethods = Pick<
  KeyBackend,
  "createAlias" | "getAlias" | "putAlias" | "deleteAlias" | "listAliases"
>;

/**
 * VAULT_ALIAS_FOLDER is the KV v2 folder of the aliases, under the key prefix:
 * `{kv_mount}/data/{key_path_prefix}/aliases/{hex}`. The key listing takes only
 * the prefix's secrets, never its folders, so it never sees an alias.
 */
export const VAULT_ALIAS_FOLDER = "aliases";

// Alias reads a listing page makes at once.
const READ_CONCURRENCY = 8;
const PREFIX = "alias/";

/**
 * vaultAliasName is an alias's KV path segment: the hex of the part after
 * `alias/`. Hex has no `/` (which would make folders) and no `.`/`..` segment,
 * and it keeps the byte order of the names. One-to-one and reversible.
 */
export function vaultAliasName(aliasName: string): string {
  return Buffer.from(aliasName.slice(PREFIX.length), "latin1").toString("hex");
}

/** aliasNameOfVaultName reverses vaultAliasName; null for a name it never makes. */
export function aliasNameOfVaultName(segment: string): string | null {
  if (!/^(?:[0-9a-f]{2})+$/.test(segment)) return null;
  const name = `${PREFIX}${Buffer.from(segment, "hex").toString("latin1")}`;
  return isAliasName(name) ? name : null;
}

/**
 * createVaultAliasMethods keeps each alias as one KV v2 secret
 * `{"format": 1, "alias_name", "target_key_id", "creation_date",
 * "last_updated_date", "write_id"}`. Every write is check-and-set: create with `cas=0`, so
 * of two replicas creating one alias exactly one succeeds; put with the
 * version it just read, so it never recreates an alias deleted meanwhile.
 */
export function createVaultAliasMethods(
  paths: { kvMount: string; keyPathPrefix: string },
  client: VaultClient,
): VaultAliasMethods {
  const folder = `${paths.keyPathPrefix}/${VAULT_ALIAS_FOLDER}`;
  const dataPath = (name: string) => `${paths.kvMount}/data/${folder}/${vaultAliasName(name)}`;
  const metadataPath = (name: string) =>
    `${paths.kvMount}/metadata/${folder}/${vaultAliasName(name)}`;

  /** read returns the alias and its KV version, or null. */
  async function read(
    name: string,
  ): Promise<{ alias: AliasEntry; version: number; writeId: unknown } | null> {
    const res = await vault(() => client.read(dataPath(name)));
    const data = res?.data as { data?: unknown; metadata?: { version?: unknown } } | null;
    if (data === null || data === undefined || data.data === null || data.data === undefined) {
      return null;
    }
    const version = data.metadata?.version;
    if (typeof version !== "number" || !Number.isInteger(version)) {
      throw damaged(name, "version");
    }
    const writeId = (data.data as { write_id?: unknown }).write_id;
    return { alias: decode(name, data.data), version, writeId };
  }

  /**
   * write stores `alias` with check-and-set `cas`, under a fresh `write_id`:
   * a write that conflicts only with its own earlier landed attempt (a retry)
   * is told apart by it from another replica's identical write, which must fail.
   */
  async function write(
    alias: AliasEntry,
    cas: number,
  ): Promise<{ failed: VaultRequestError | null; writeId: string }> {
    const writeId = randomBytes(12).toString("hex");
    const res = await attempt(() =>
      // Safe to repeat: a repeat of a write that landed fails check-and-set.
      client.write(
        dataPath(alias.aliasName),
        { data: { ...encode(alias), write_id: writeId }, options: { cas } },
        { retry: true },
      ),
    );
    return { failed: res instanceof VaultRequestError ? res : null, writeId };
  }

  return {
    async createAlias(alias) {
      const name = checkAliasName(alias.aliasName);
      const { failed, writeId } = await write(alias, 0);
      if (failed === null) return;
      if (failed.kind !== "conflict") throw vaultKmsError(failed);
      // A retried write whose first attempt landed conflicts with itself.
      const existing = await read(name);
      if (existing !== null && existing.writeId === writeId) return;
      throw new KmsError("KEY_EXISTS", `alias "${name}" already exists`);
    },

    async getAlias(aliasName) {
      return (await read(checkAliasName(aliasName)))?.alias ?? null;
    },

    async putAlias(alias) {
      const name = checkAliasName(alias.aliasName);
      const current = await read(name);
      if (current === null) throw notFound(name);
      const { failed, writeId } = await write(alias, current.version);
      if (failed === null) return;
      if (failed.kind !== "conflict") throw vaultKmsError(failed);
      const now = await read(name);
      if (now !== null && now.writeId === writeId) return;
      if (now === null) throw notFound(name);
      throw new KmsError(
        "BACKEND_ERROR",
        `alias "${name}" was changed concurrently by another gateway; retry the operation`,
        { cause: failed },
      );
    },

    async deleteAlias(aliasName) {
      const name = checkAliasName(aliasName);
      const removed = await attempt(() => client.delete(metadataPath(name)));
      if (removed instanceof VaultRequestError && removed.kind !== "not-found") {
        throw vaultKmsError(removed);
      }
    },

    async listAliases(after, limit) {
      if (!Number.isSafeInteger(limit) || limit < 0) {
        throw new KmsError("INVALID_ARGUMENT", "limit must be a non-negative integer");
      }
      const segments = await vault(() => client.list(`${paths.kvMount}/metadata/${folder}`));
      // Vault lists a folder at once; the page is cut here, in byte order
      // (hex keeps it), so only the page's aliases are read.
      const names = segments
        .map(aliasNameOfVaultName)
        .filter((n): n is string => n !== null && (after === null || n > after))
        .sort();
      const page = names.slice(0, limit);
      const found = new Array<AliasEntry | null>(page.length).fill(null);
      let next = 0;
      async function worker(): Promise<void> {
        while (next < page.length) {
          const index = next++;
          found[index] = (await read(page[index] as string))?.alias ?? null;
        }
      }
      await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, page.length) }, worker));
      return {
        aliases: found.filter((a): a is AliasEntry => a !== null),
        more: names.length > limit,
      };
    },
  };
}

function encode(alias: AliasEntry): Record<string, unknown> {
  return {
    format: 1,
    alias_name: alias.aliasName,
    target_key_id: alias.targetKeyId,
    creation_date: alias.creationDate.toISOString(),
    last_updated_date: alias.lastUpdatedDate.toISOString(),
  };
}

function decode(name: string, data: unknown): AliasEntry {
  if (typeof data !== "object" || data === null) throw damaged(name, "not an object");
  const r = data as Record<string, unknown>;
  if (r.format !== 1) throw damaged(name, "format");
  if (r.alias_name !== name) throw damaged(name, "alias_name");
  if (typeof r.target_key_id !== "string" || !/^[A-Za-z0-9._-]{1,128}$/.test(r.target_key_id)) {
    throw damaged(name, "target_key_id");
  }
  return {
    aliasName: name,
    targetKeyId: r.target_key_id,
    creationDate: date(r.creation_date, name, "creation_date"),
    lastUpdatedDate: date(r.last_updated_date, name, "last_updated_date"),
  };
}

function date(value: unknown, name: string, field: string): Date {
  const d = typeof value === "string" ? new Date(value) : null;
  if (d === null || Number.isNaN(d.getTime())) throw damaged(name, field);
  return d;
}

function damaged(name: string, field: string): KmsError {
  return new KmsError("BACKEND_ERROR", `the Vault record of alias "${name}" is damaged (${field})`);
}

function notFound(name: string): KmsError {
  return new KmsError("KEY_NOT_FOUND", `alias "${name}" not found`);
}
