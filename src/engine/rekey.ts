import type { KeyBackend } from "./backend.js";
import { isKmsError, KmsError } from "./errors.js";
import type { KeyStore } from "./key-store.js";
import { encodeKeyring, type KeyringFile } from "./keyring.js";

/** RESEAL_PAGE is how many key ids one listing page of a reseal pass asks for. */
const RESEAL_PAGE = 256;
/** RESEAL_CONCURRENCY is how many keys of a page are rewritten at once (each write is fsynced). */
const RESEAL_CONCURRENCY = 16;

/**
 * resealAll walks every key through the backend's listing and reseals, under
 * the key's lock, each version not sealed under the store's primary KEK (a
 * key already under it is not written). It resolves to how many keys it
 * rewrote, and rejects with NOT_RUNNING when `stopping()` turns true, so a stop
 * does not wait for a pass over 100,000 keys. Safe to repeat: every step
 * leaves each key openable under the primary or the secondary KEK.
 */
export async function resealAll(store: KeyStore, stopping: () => boolean): Promise<number> {
  let after: string | null = null;
  let rewritten = 0;
  const resealOne = async (keyId: string) => {
    if (stopping()) throw new KmsError("NOT_RUNNING", "the rekey was interrupted by a stop");
    let changed = false;
    try {
      await store.update(keyId, (key) => {
        const next = store.resealed(key);
        changed = next !== key;
        return next;
      });
    } catch (error) {
      // Deleted (or destroyed as due) since the listing: nothing left to reseal.
      if (!isKmsError(error, "KEY_NOT_FOUND")) throw error;
    }
    if (changed) rewritten++;
  };
  for (;;) {
    const page: { ids: string[]; more: boolean } = await store.list(after, RESEAL_PAGE);
    let next = 0;
    const worker = async () => {
      while (next < page.ids.length) await resealOne(page.ids[next++] as string);
    };
    await Promise.all(Array.from({ length: RESEAL_CONCURRENCY }, worker));
    const last = page.ids.at(-1);
    if (!page.more || last === undefined) return rewritten;
    after = last;
  }
}

/**
 * settleKeyring reseals every key under the store's primary KEK and then writes
 * `settle`, the keyring of that KEK alone, ending a rekey (forward, or rolled
 * back) for good. Until the write, the keyring still holds both KEKs, so a
 * crash anywhere leaves every key openable by either master key.
 */
export async function settleKeyring(
  store: KeyStore,
  backend: KeyBackend,
  settle: KeyringFile,
  stopping: () => boolean,
): Promise<number> {
  const rewritten = await resealAll(store, stopping);
  await backend.writeKeyring(encodeKeyring(settle));
  return rewritten;
}
