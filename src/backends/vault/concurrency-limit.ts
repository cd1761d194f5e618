/**
 * ConcurrencyLimit bounds calls in flight and calls waiting: a call beyond both
 * bounds is refused at once instead of queueing without end.
 */
export interface ConcurrencyLimit {
  /** run calls `fn` when a slot is free; resolves to null when refused (queue full). */
  run<T>(fn: () => Promise<T>): Promise<{ value: T } | null>;
  inFlight(): number;
  waiting(): number;
}

/** createConcurrencyLimit allows `maxInFlight` calls at once and `maxWaiting` in line. */
export function createConcurrencyLimit(maxInFlight: number, maxWaiting: number): ConcurrencyLimit {
  let running = 0;
  const queue: Array<() => void> = [];

  /** release hands the slot to the first waiter, or frees it. */
  function release(): void {
    const next = queue.shift();
    if (next) next();
    else running -= 1;
  }

  return {
    async run<T>(fn: () => Promise<T>): Promise<{ value: T } | null> {
      if (running < maxInFlight) {
        running += 1;
      } else {
        if (queue.length >= maxWaiting) return null;
        // Woken by release(), which hands over its slot: `running` stays as it is.
        await new Promise<void>((resolve) => queue.push(resolve));
      }
      try {
        return { value: await fn() };
      } finally {
        release();
      }
    },
    inFlight: () => running,
    waiting: () => queue.length,
  };
}
