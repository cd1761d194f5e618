import { setTimeout as sleep } from "node:timers/promises";

/**
 * until calls `fn` every `everyMs` until it resolves, and rethrows its last
 * error once `ms` have passed: for waiting on what another process or a
 * background task makes true, without a fixed sleep.
 */
export async function until<T>(fn: () => Promise<T>, ms = 5000, everyMs = 50): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (Date.now() > end) throw error;
      await sleep(everyMs);
    }
  }
}
