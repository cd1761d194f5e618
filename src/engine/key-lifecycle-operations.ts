import type { StoredKey } from "./backend.js";
import { KmsError } from "./errors.js";
import { parseKeyId } from "./key-id.js";
import { MAX_TAGS, parseDescription, parseTagKeys, parseTags } from "./key-input.js";
import { type KeyContext, toKeyMetadata } from "./key-operations.js";
import { assertNotPendingDeletion, assertUsable } from "./key-state-rules.js";
import type { KeyMetadata } from "./types.js";

/**
 * MAX_KEY_VERSIONS bounds how often a key can be rotated: every version stays
 * in the key's record (older ciphertexts must still decrypt), so the record
 * would otherwise grow without end.
 */
export const MAX_KEY_VERSIONS = 1000;

/** NAME_TAG is the tag that named a key at creation; it can be neither changed nor removed. */
export const NAME_TAG = "name";

function invalid(message: string): KmsError {
  return new KmsError("INVALID_ARGUMENT", message);
}

async function change(
  ctx: KeyContext,
  keyId: string,
  fn: (key: StoredKey) => StoredKey | Promise<StoredKey>,
): Promise<KeyMetadata> {
  return toKeyMetadata(await ctx.store.update(parseKeyId(keyId), fn));
}

/** enableKey makes a Disabled key Enabled; an Enabled key stays as it is (no write). */
export function enableKey(ctx: KeyContext, keyId: string): Promise<KeyMetadata> {
  return change(ctx, keyId, (key) => {
    assertNotPendingDeletion(key, "EnableKey");
    return key.keyState === "Enabled" ? key : { ...key, keyState: "Enabled" };
  });
}

/** disableKey makes an Enabled key Disabled; a Disabled key stays as it is (no write). */
export function disableKey(ctx: KeyContext, keyId: string): Promise<KeyMetadata> {
  return change(ctx, keyId, (key) => {
    assertNotPendingDeletion(key, "DisableKey");
    return key.keyState === "Disabled" ? key : { ...key, keyState: "Disabled" };
  });
}

/**
 * rotateKey adds a version with fresh material to an Enabled key (made by its
 * custodian: 32 random bytes sealed by the engine, or a Transit rotation). New
 * wraps use the newest version; older versions stay, so every ciphertext made
 * under them still decrypts.
 */
export function rotateKey(ctx: KeyContext, keyId: string): Promise<KeyMetadata> {
  return change(ctx, keyId, async (key) => {
    assertUsable(key, "RotateKey");
    if (key.versions.length >= MAX_KEY_VERSIONS) {
      throw invalid(`key "${key.keyId}" has reached the limit of ${MAX_KEY_VERSIONS} versions`);
    }
    const version = await ctx.custody.rotate(key, ctx.now());
    // On demand: the automatic schedule, if any, stays as it is (as AWS's RotateKeyOnDemand).
    return { ...key, versions: [...key.versions, { ...version, rotationType: "ON_DEMAND" }] };
  });
}

/** updateKeyDescription replaces the description of a key that is not pending deletion. */
export function updateKeyDescription(
  ctx: KeyContext,
  keyId: string,
  description: string | undefined,
): Promise<KeyMetadata> {
  if (description === undefined) throw invalid("description is required");
  const next = parseDescription(description);
  return change(ctx, keyId, (key) => {
    assertNotPendingDeletion(key, "UpdateKeyDescription");
    return key.description === next ? key : { ...key, description: next };
  });
}

/**
 * tagKey merges `tags` over the tags of a key that is not pending deletion.
 * The `name` tag may only be given with the value it already has: it named
 * the key at creation, and a changed one would name another key.
 */
export function tagKey(
  ctx: KeyContext,
  keyId: string,
  tags: Record<string, string>,
): Promise<KeyMetadata> {
  const added = parseTags(tags);
  const entries = Object.entries(added);
  if (entries.length === 0) throw invalid("tags must name at least one tag");
  return change(ctx, keyId, (key) => {
    assertNotPendingDeletion(key, "TagKey");
    if (Object.hasOwn(added, NAME_TAG) && added[NAME_TAG] !== ownTag(key, NAME_TAG)) {
      throw invalid("the name tag cannot be changed: it named the key at creation");
    }
    if (entries.every(([k, v]) => ownTag(key, k) === v)) return key;
    // A null prototype, so a tag named `__proto__` stays a tag (as at creation).
    const merged: Record<string, string> = Object.assign(Object.create(null), key.tags, added);
    if (Object.keys(merged).length > MAX_TAGS) {
      throw invalid(`a key can have at most ${MAX_TAGS} tags`);
    }
    return { ...key, tags: merged };
  });
}

/** untagKey removes the named tags (absent ones are ignored) from a key not pending deletion. */
export function untagKey(
  ctx: KeyContext,
  keyId: string,
  tagKeys: readonly string[],
): Promise<KeyMetadata> {
  const removed = parseTagKeys(tagKeys);
  if (removed.includes(NAME_TAG)) {
    throw invalid("the name tag cannot be removed: it named the key at creation");
  }
  return change(ctx, keyId, (key) => {
    assertNotPendingDeletion(key, "UntagKey");
    if (!removed.some((k) => Object.hasOwn(key.tags, k))) return key;
    const kept: Record<string, string> = Object.assign(Object.create(null), key.tags);
    for (const k of removed) delete kept[k];
    return { ...key, tags: kept };
  });
}

function ownTag(key: StoredKey, tag: string): string | undefined {
  return Object.hasOwn(key.tags, tag) ? key.tags[tag] : undefined;
}
