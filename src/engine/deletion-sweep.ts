import { describeFailure, type EngineLog } from "./guard-backend.js";
import type { KeyStore } from "./key-store.js";

const SWEEP_PAGE_SIZE = 100;
/**
 * FULL_SCAN_PAGE_PAUSE_MS paces a full scan: it rests this long between pages
 * of SWEEP_PAGE_SIZE keys, so reading 100,000 key files (at start, then
 * hourly) takes about a minute longer but leaves the file system and the
 * event loop to requests instead of competing with them at full speed.
 */
export const FULL_SCAN_PAGE_PAUSE_MS = 50;

/**
 * sweepDueDeletions destroys the keys pending deletion whose date has passed
 * and returns how many it destroyed. It works from the stored `deletionDate`,
 * so a restart loses nothing: the first sweep of a store, and then one every
 * FULL_SCAN_INTERVAL_MS, pages through every key (learning the deadlines
 * set before the restart, or by another replica); the sweeps between visit
 * only the keys the store's deadline index says are due, so a sweep costs
 * O(keys due), not O(keys). Each key is re-read under its lock before it is
 * destroyed, so one cancelled since it was listed or indexed survives. One key
 * that fails is logged and skipped; a failing listing rejects. It gives up
 * early when `cancelled()` turns true (the backend is being stopped): the next
 * sweep picks up where this one left off.
 */
export async function sweepDueDeletions(
  store: KeyStore,
  log: EngineLog,
  cancelled: () => boolean = () => false,
): Promise<number> {
  const startedAt = store.now();
  if (!store.deadlines.fullScanDue(startedAt)) {
    return destroyEach(store, log, store.deadlines.due(startedAt), cancelled);
  }
  let after: string | null = null;
  let destroyed = 0;
  for (;;) {
    if (cancelled()) return destroyed;
    const page = await store.list(after, SWEEP_PAGE_SIZE);
    destroyed += await destroyEach(store, log, page.ids, cancelled);
    const last = page.ids.at(-1);
    if (!page.more || last === undefined) break;
    after = last;
    await new Promise((resolve) => setTimeout(resolve, FULL_SCAN_PAGE_PAUSE_MS));
  }
  if (!cancelled()) store.deadlines.fullScanDone(startedAt);
  return destroyed;
}

async function destroyEach(
  store: KeyStore,
  log: EngineLog,
  ids: readonly string[],
  cancelled: () => boolean,
): Promise<number> {
  let destroyed = 0;
  for (const keyId of ids) {
    if (cancelled()) return destroyed;
    try {
      if (await store.destroyIfDue(keyId)) destroyed++;
    } catch (error) {
      log("error", "deletion sweep could not check a key", {
        keyId,
        error: describeFailure(error),
      });
    }
  }
  return destroyed;
}
