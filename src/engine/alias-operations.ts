import { parseAliasName } from "./alias-name.js";
import type { StoredKey } from "./backend.js";
import { isKmsError, KmsError } from "./errors.js";
import { parseKeyId } from "./key-id.js";
import { parseListMarker } from "./key-input.js";
import type { KeyContext } from "./key-operations.js";
import { assertNotPendingDeletion } from "./key-state-rules.js";
import { keyNotFound } from "./key-store.js";
import type { AliasEntry, AliasListPage, ListAliasesInput } from "./types.js";

// The default and the bound of ListAliases' `limit` (AWS's).
const DEFAULT_ALIAS_LIMIT = 100;
const MAX_ALIAS_LIMIT = 1000;
/**
 * ALIAS_SCAN_BUDGET bounds the aliases one filtered page (`keyId`) reads:
 * aliases are indexed by name only, so a page for one key stops after this
 * many and says `truncated` with the last name read as its marker (AWS too
 * may return fewer than `limit` with `Truncated`).
 */
export const ALIAS_SCAN_BUDGET = 1000;
const SCAN_PAGE_SIZE = 100;

/** aliasNotFound is the KEY_NOT_FOUND error for an alias; it names the alias. */
export function aliasNotFound(aliasName: string): KmsError {
  return new KmsError("KEY_NOT_FOUND", `alias "${aliasName}" not found`);
}

/**
 * assertAliasTarget refuses a key an alias cannot name: KEY_NOT_FOUND when it
 * does not exist, INVALID_KEY_STATE (with its state) when pending deletion,
 * as AWS's CreateAlias and UpdateAlias do. A Disabled key may be named.
 */
function assertAliasTarget(key: StoredKey | null, keyId: string, operation: string): StoredKey {
  if (key === null) throw keyNotFound(keyId);
  assertNotPendingDeletion(key, operation);
  return key;
}

function copy(alias: AliasEntry): AliasEntry {
  return {
    aliasName: alias.aliasName,
    targetKeyId: alias.targetKeyId,
    creationDate: new Date(alias.creationDate.getTime()),
    lastUpdatedDate: new Date(alias.lastUpdatedDate.getTime()),
  };
}

/**
 * createAlias names `targetKeyId` `aliasName`. The check of the key and the
 * write run under the key's lock, so a destroy in this process cannot slip
 * between them and leave an alias naming a destroyed key.
 */
export async function createAlias(
  ctx: KeyContext,
  aliasName: string,
  targetKeyId: string,
): Promise<AliasEntry> {
  const name = parseAliasName(aliasName, true);
  const target = parseKeyId(targetKeyId, "target_key_id");
  return ctx.store.withKeyLocked(target, async (key) => {
    assertAliasTarget(key, target, "CreateAlias");
    const now = ctx.now();
    const alias: AliasEntry = {
      aliasName: name,
      targetKeyId: target,
      creationDate: now,
      lastUpdatedDate: now,
    };
    try {
      await ctx.store.aliases.createAlias(alias);
    } catch (error) {
      if (isKmsError(error, "KEY_EXISTS")) {
        throw new KmsError("KEY_EXISTS", `alias "${name}" already exists`);
      }
      throw error;
    }
    return copy(alias);
  });
}

/** updateAlias points an existing alias at `targetKeyId` (its creation date stays). */
export async function updateAlias(
  ctx: KeyContext,
  aliasName: string,
  targetKeyId: string,
): Promise<AliasEntry> {
  const name = parseAliasName(aliasName, true);
  const target = parseKeyId(targetKeyId, "target_key_id");
  return ctx.store.withKeyLocked(target, async (key) => {
    const current = await ctx.store.aliases.getAlias(name);
    if (current === null) throw aliasNotFound(name);
    assertAliasTarget(key, target, "UpdateAlias");
    const next: AliasEntry = { ...current, targetKeyId: target, lastUpdatedDate: ctx.now() };
    try {
      await ctx.store.aliases.putAlias(next);
    } catch (error) {
      // Deleted since we read it (here or by another gateway).
      if (isKmsError(error, "KEY_NOT_FOUND")) throw aliasNotFound(name);
      throw error;
    }
    return copy(next);
  });
}

/** deleteAlias removes an alias; KEY_NOT_FOUND naming it when there is none. */
export async function deleteAlias(ctx: KeyContext, aliasName: string): Promise<void> {
  const name = parseAliasName(aliasName, true);
  if ((await ctx.store.aliases.getAlias(name)) === null) throw aliasNotFound(name);
  await ctx.store.aliases.deleteAlias(name);
}

/**
 * resolveAlias returns the id of the key an alias names. KEY_NOT_FOUND naming
 * the alias when there is no such alias, or when the key it names no longer
 * exists (an alias left behind by another gateway racing a destroy).
 */
export async function resolveAlias(ctx: KeyContext, aliasName: string): Promise<string> {
  const name = parseAliasName(aliasName, false);
  const alias = await ctx.store.aliases.getAlias(name);
  if (alias === null) throw aliasNotFound(name);
  if ((await ctx.store.load(alias.targetKeyId)) === null) {
    throw new KmsError(
      "KEY_NOT_FOUND",
      `alias "${name}" names key "${alias.targetKeyId}", which does not exist`,
    );
  }
  return alias.targetKeyId;
}

/** parseAliasLimit resolves ListAliases' `limit`: absent → 100, else an integer 1–1000. */
export function parseAliasLimit(limit: unknown): number {
  if (limit == null) return DEFAULT_ALIAS_LIMIT;
  if (
    typeof limit !== "number" ||
    !Number.isInteger(limit) ||
    limit < 1 ||
    limit > MAX_ALIAS_LIMIT
  ) {
    throw new KmsError(
      "INVALID_ARGUMENT",
      `limit must be an integer between 1 and ${MAX_ALIAS_LIMIT}`,
    );
  }
  return limit;
}

/**
 * listAliases returns a page of aliases in ascending name order, after
 * `marker`; with `keyId`, only that key's (KEY_NOT_FOUND when the key does not
 * exist), reading at most ALIAS_SCAN_BUDGET aliases per page.
 */
export async function listAliases(
  ctx: KeyContext,
  input: ListAliasesInput,
): Promise<AliasListPage> {
  const limit = parseAliasLimit(input.limit);
  const marker = parseListMarker(input.marker);
  if (input.keyId == null) {
    const page = await ctx.store.aliases.listAliases(marker, limit);
    const last = page.aliases.at(-1);
    const truncated = page.more && last !== undefined;
    return {
      aliases: page.aliases.map(copy),
      truncated,
      nextMarker: truncated ? last.aliasName : null,
    };
  }
  const keyId = parseKeyId(input.keyId);
  if ((await ctx.store.load(keyId)) === null) throw keyNotFound(keyId);
  const aliases: AliasEntry[] = [];
  let after = marker;
  let scanned = 0;
  for (;;) {
    if (scanned >= ALIAS_SCAN_BUDGET && after !== null) {
      return { aliases, truncated: true, nextMarker: after };
    }
    const size = Math.min(SCAN_PAGE_SIZE, ALIAS_SCAN_BUDGET - scanned);
    const page = await ctx.store.aliases.listAliases(after, size);
    for (const [index, alias] of page.aliases.entries()) {
      scanned++;
      after = alias.aliasName;
      if (alias.targetKeyId !== keyId) continue;
      aliases.push(copy(alias));
      if (aliases.length === limit) {
        const more = page.more || index < page.aliases.length - 1;
        return { aliases, truncated: more, nextMarker: more ? alias.aliasName : null };
      }
    }
    // An empty page that says more follow had every alias deleted under it: end there.
    if (!page.more || page.aliases.length === 0) {
      return { aliases, truncated: false, nextMarker: null };
    }
  }
}
