import type { KmsEngine } from "../engine/types.js";
import type { KeyCensus } from "./gateway-metrics.js";

/** MAX_CENSUS_KEYS caps how many keys one census counts (ten pages of 1000). */
export const MAX_CENSUS_KEYS = 10_000;
/** CENSUS_TTL_MS is how long a census is reused: scrapes every few seconds do not re-read every key. */
export const CENSUS_TTL_MS = 60_000;

/**
 * createKeyCensus returns a function that counts keys by state through the engine's
 * listing, for the metrics. A scrape must not cost O(keys) each time, so the count stops
 * at `maxKeys` (and says it is incomplete), a count that took more than one page is
 * reused for `ttlMs` (one page is cheap and is counted afresh, so small deployments see
 * changes at once), and concurrent scrapes share one count in flight. Null when the KMS
 * is not running.
 */
export function createKeyCensus(
  engine: Pick<KmsEngine, "listKeys">,
  options: { maxKeys?: number; ttlMs?: number; now?: () => number } = {},
): () => Promise<KeyCensus | null> {
  const maxKeys = options.maxKeys ?? MAX_CENSUS_KEYS;
  const ttlMs = options.ttlMs ?? CENSUS_TTL_MS;
  const now = options.now ?? Date.now;
  let last: { at: number; census: KeyCensus | null } | null = null;
  let inFlight: Promise<KeyCensus | null> | null = null;

  let pages = 0;
  async function count(): Promise<KeyCensus | null> {
    const byState: Record<string, number> = {};
    let seen = 0;
    pages = 0;
    let marker: string | undefined;
    try {
      for (;;) {
        const page = await engine.listKeys({ limit: Math.min(1000, maxKeys - seen), marker });
        pages++;
        for (const key of page.keys) byState[key.keyState] = (byState[key.keyState] ?? 0) + 1;
        seen += page.keys.length + page.unreadableKeyIds.length;
        if (!page.truncated || page.nextMarker === null) return { byState, complete: true };
        if (seen >= maxKeys) return { byState, complete: false };
        marker = page.nextMarker;
      }
    } catch {
      // Not running, or the backend failed: the status and backend metrics say which.
      return null;
    }
  }

  return () => {
    if (last !== null && now() - last.at < ttlMs) return Promise.resolve(last.census);
    inFlight ??= count().then((census) => {
      last = pages > 1 ? { at: now(), census } : null;
      inFlight = null;
      return census;
    });
    return inFlight;
  };
}
