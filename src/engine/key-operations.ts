import type { StoredKey } from "./backend.js";
import { isKmsError, KmsError } from "./errors.js";
import { describeFailure, type EngineLog } from "./guard-backend.js";
import type { KeyCustody } from "./key-custody.js";
import { parseKeyId } from "./key-id.js";
import {
  parseCreateKeyInput,
  parseDeletionWindow,
  parseListLimit,
  parseListMarker,
} from "./key-input.js";
import { type KeyStore, keyNotFound } from "./key-store.js";
import { rotationEnabled } from "./rotation-schedule.js";
import type {
  CreateKeyInput,
  KeyListPage,
  KeyMetadata,
  KmsConfig,
  ListKeysInput,
} from "./types.js";

/**
 * KeyContext is what a key operation runs against: a started backend's
 * metadata (`store`) and custody of its material (`custody`), and its configuration.
 */
export interface KeyContext {
  store: KeyStore;
  custody: KeyCustody;
  config: KmsConfig;
  now: () => Date;
  log: EngineLog;
}

const DAY_MS = 86_400_000;
// Bounds the backend reads a list page makes at once.
const LIST_CONCURRENCY = 16;

/** toKeyMetadata is the public view of a stored key; it copies, so callers cannot alter the cache. */
export function toKeyMetadata(key: StoredKey): KeyMetadata {
  const current = key.versions.at(-1);
  // The backend contract says never empty; a record that breaks it is damaged.
  if (current === undefined) {
    throw new KmsError("BACKEND_ERROR", `key "${key.keyId}" has no key material`);
  }
  return {
    keyId: key.keyId,
    description: key.description,
    keyState: key.keyState,
    keyUsage: "ENCRYPT_DECRYPT",
    keySpec: "AES_256",
    creationDate: new Date(key.creationDate.getTime()),
    deletionDate: key.deletionDate === null ? null : new Date(key.deletionDate.getTime()),
    rotationEnabled: rotationEnabled(key),
    // Present only while rotation is on, so a key without it looks as it always did.
    ...(rotationEnabled(key)
      ? {
          rotationPeriodInDays: key.rotationPeriodInDays as number,
          nextRotationDate: new Date((key.nextRotationDate as Date).getTime()),
        }
      : {}),
    tags: { ...key.tags },
    keyVersion: current.version,
    // Version 1 came with the key; only a later version was made by a rotation.
    rotationDate: key.versions.length > 1 ? new Date(current.createdAt.getTime()) : null,
  };
}

/** createKey creates a master key with fresh 32-byte material as version 1. */
export async function createKey(ctx: KeyContext, input: CreateKeyInput): Promise<KeyMetadata> {
  const parsed = parseCreateKeyInput(input);
  const now = ctx.now();
  const { version, material } = ctx.custody.firstVersion(parsed.keyId, now);
  const key: StoredKey = {
    keyId: parsed.keyId,
    description: parsed.description,
    keyState: "Enabled",
    stateBeforeDeletion: null,
    creationDate: now,
    deletionDate: null,
    tags: parsed.tags,
    versions: [version],
  };
  await ctx.store.create(key, material);
  return toKeyMetadata(key);
}

/** listKeys returns one page of keys in ascending id order (contract §6). */
export async function listKeys(ctx: KeyContext, input: ListKeysInput): Promise<KeyListPage> {
  const limit = parseListLimit(input.limit);
  const marker = parseListMarker(input.marker);
  // A limit of 0 asks for nothing, and this empty page is all of it: saying
  // `truncated` with no next_marker to go on made "while truncated" loops
  // restart from the first page for ever (truncated ⇒ next_marker, always).
  if (limit === 0) return { keys: [], truncated: false, nextMarker: null, unreadableKeyIds: [] };
  const page = await ctx.store.list(marker, limit);
  const unreadableKeyIds: string[] = [];
  const keys = await mapBounded(page.ids, LIST_CONCURRENCY, async (id) => {
    try {
      return await ctx.store.load(id);
    } catch (error) {
      // One unreadable key must not hide every other key on its page (the
      // reference server's weakness): it is left out, named in
      // unreadable_key_ids and logged; describing it still reports the failure.
      if (!isKmsError(error, "BACKEND_ERROR")) throw error;
      ctx.log("warn", "listing skipped an unreadable key", {
        keyId: id,
        error: describeFailure(error),
      });
      unreadableKeyIds.push(id);
      return null;
    }
  });
  const last = page.ids.at(-1);
  return {
    // A key can vanish between list and load (destroyed meanwhile): skip it.
    keys: keys
      .filter((key): key is StoredKey => key !== null)
      .map((key) => ({
        keyId: key.keyId,
        description: key.description,
        keyState: key.keyState,
        tags: key.tags,
        creationDate: key.creationDate,
      })),
    truncated: page.more && last !== undefined,
    nextMarker: page.more && last !== undefined ? last : null,
    // The workers finish in any order; the page's ids are ascending, so these are too.
    unreadableKeyIds: unreadableKeyIds.sort(),
  };
}

/** describeKey returns a key's metadata, or KEY_NOT_FOUND. */
export async function describeKey(ctx: KeyContext, keyId: string): Promise<KeyMetadata> {
  const id = parseKeyId(keyId);
  const key = await ctx.store.load(id);
  if (key === null) throw keyNotFound(id);
  return toKeyMetadata(key);
}

/** scheduleKeyDeletion makes an Enabled or Disabled key PendingDeletion for `days` (7–30, default 30). */
export async function scheduleKeyDeletion(
  ctx: KeyContext,
  keyId: string,
  days?: number,
): Promise<KeyMetadata> {
  const id = parseKeyId(keyId);
  const window = parseDeletionWindow(days);
  const key = await ctx.store.update(id, (current) => {
    if (current.keyState === "PendingDeletion") {
      throw new KmsError(
        "INVALID_KEY_STATE",
        `key "${id}" is PendingDeletion: its deletion is already scheduled`,
        { keyState: current.keyState },
      );
    }
    return {
      ...current,
      keyState: "PendingDeletion",
      stateBeforeDeletion: current.keyState,
      deletionDate: new Date(ctx.now().getTime() + window * DAY_MS),
    };
  });
  return toKeyMetadata(key);
}

/** cancelKeyDeletion restores a PendingDeletion key to the state it had before. */
export async function cancelKeyDeletion(ctx: KeyContext, keyId: string): Promise<KeyMetadata> {
  const id = parseKeyId(keyId);
  const key = await ctx.store.update(id, (current) => {
    if (current.keyState !== "PendingDeletion") {
      throw new KmsError(
        "INVALID_KEY_STATE",
        `key "${id}" is ${current.keyState}, not pending deletion: there is no deletion to cancel`,
        { keyState: current.keyState },
      );
    }
    return {
      ...current,
      keyState: current.stateBeforeDeletion === "Disabled" ? "Disabled" : "Enabled",
      stateBeforeDeletion: null,
      deletionDate: null,
    };
  });
  return toKeyMetadata(key);
}

async function mapBounded<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}
