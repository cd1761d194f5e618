/**
 * PreauthBudget bounds the bytes buffered at once, across all requests, for bodies whose
 * signature cannot be checked until they are hashed (SigV4 without x-amz-content-sha256).
 */
export interface PreauthBudget {
  /** tryReserve takes `bytes` from the budget and returns true, or returns false and takes nothing. */
  tryReserve(bytes: number): boolean;
  /** release gives back bytes taken by tryReserve. */
  release(bytes: number): void;
  /** used is the number of bytes taken now. */
  readonly used: number;
}

/** defaultPreauthBudgetBytes is 16 MiB: sixteen requests at the 1 MiB body limit. */
export const defaultPreauthBudgetBytes = 16 * 1024 * 1024;

/**
 * createPreauthBudget returns one global budget of `limitBytes`. Without it, every
 * unauthenticated connection could make the gateway hold up to 1 MiB, so a few hundred
 * idle uploads would pin hundreds of MiB; with it, the total is `limitBytes`, and requests
 * over it are turned away (503 with Retry-After) instead of queued.
 */
export function createPreauthBudget(limitBytes: number = defaultPreauthBudgetBytes): PreauthBudget {
  if (!Number.isSafeInteger(limitBytes) || limitBytes < 0) {
    throw new RangeError("preauth budget: limitBytes must be a non-negative integer");
  }
  let used = 0;
  return {
    tryReserve(bytes) {
      if (used + bytes > limitBytes) return false;
      used += bytes;
      return true;
    },
    release(bytes) {
      used = Math.max(0, used - bytes);
    },
    get used() {
      return used;
    },
  };
}
