import { describeFailure, type EngineLog } from "./guard-backend.js";
import type { KeyStore } from "./key-store.js";

const SWEEP_PAGE_SIZE = 100;

/**
 * sweepDueDeletions pages through every key and destroys those pending
 * deletion whose date has passed; it returns how many it destroyed. It works
 * from the stored `deletionDate`, so a restart loses nothing. One key that
 * fails is logged and skipped; a failing listing rejects. It gives up early
 * when `cancelled()` turns true (the backend is being stopped): the next sweep
 * picks up where this one left off.
 */
export async function sweepDueDeletions(
  store: KeyStore,
  log: EngineLog,
  cancelled: () => boolean = () => false,
): Promise<number> {
  let after: string | null = null;
  let destroyed = 0;
  for (;;) {
    if (cancelled()) return destroyed;
    const page = await store.list(after, SWEEP_PAGE_SIZE);
    for (const keyId of page.ids) {
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
    const last = page.ids.at(-1);
    if (!page.more || last === undefined) return destroyed;
    after = last;
  }
}
