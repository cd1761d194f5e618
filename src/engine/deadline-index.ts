import type { StoredKey } from "./backend.js";

/**
 * DeadlineIndex remembers the deletion date of every key pending deletion that
 * this process has read or written, so a sweep visits only those keys instead
 * of reading every key (100,000 key files a minute on a large local key_dir).
 * It learns of keys scheduled before a restart, or by another replica sharing
 * the backend, only through a full scan of the keys: the sweep makes one at
 * start and then every `fullScanIntervalMs`.
 */
export interface DeadlineIndex {
  /** note records what a key read from or written to the backend says about its deletion. */
  note(key: StoredKey): void;
  /** forget drops a destroyed key. */
  forget(keyId: string): void;
  /** due returns the ids whose deletion date is at or before `now`, in no particular order. */
  due(now: Date): string[];
  /** size is how many keys pending deletion the index knows. */
  size(): number;
  /** fullScanDue tells whether the last completed full scan started `fullScanIntervalMs` ago or more (or none ran). */
  fullScanDue(now: Date): boolean;
  /** fullScanDone records a full scan that started at `startedAt` and ran to the end. */
  fullScanDone(startedAt: Date): void;
}

/** FULL_SCAN_INTERVAL_MS is how often the sweep reads every key anyway (one hour). */
export const FULL_SCAN_INTERVAL_MS = 3_600_000;

/** deletionDeadline is a key's deletion date while it is pending deletion, else null. */
export function deletionDeadline(key: StoredKey): number | null {
  return key.keyState === "PendingDeletion" && key.deletionDate !== null
    ? key.deletionDate.getTime()
    : null;
}

/**
 * createDeadlineIndex returns an empty DeadlineIndex that asks for a full scan
 * first. `deadlineOf` says when a key is due (null: never); by default its
 * deletion date, and the rotation sweep indexes its rotation dates the same way.
 */
export function createDeadlineIndex(
  fullScanIntervalMs = FULL_SCAN_INTERVAL_MS,
  deadlineOf: (key: StoredKey) => number | null = deletionDeadline,
): DeadlineIndex {
  const deadlines = new Map<string, number>();
  let lastFullScan: number | null = null;
  return {
    note(key) {
      const deadline = deadlineOf(key);
      if (deadline !== null) {
        deadlines.set(key.keyId, deadline);
      } else {
        deadlines.delete(key.keyId);
      }
    },
    forget(keyId) {
      deadlines.delete(keyId);
    },
    due(now) {
      const time = now.getTime();
      const ids: string[] = [];
      for (const [id, deadline] of deadlines) if (deadline <= time) ids.push(id);
      return ids;
    },
    size: () => deadlines.size,
    fullScanDue: (now) =>
      lastFullScan === null || now.getTime() - lastFullScan >= fullScanIntervalMs,
    fullScanDone(startedAt) {
      lastFullScan = startedAt.getTime();
    },
  };
}
