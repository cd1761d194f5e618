/** CircuitBreakerOptions tune createCircuitBreaker. */
export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. */
  failureThreshold: number;
  /** How long an open circuit fails fast before one probe call is let through. */
  openMs: number;
  now?: () => number;
}

/**
 * CircuitBreaker fails calls fast while a dependency is down, instead of making
 * every caller wait out a timeout: closed → (threshold failures in a row) → open
 * → (after openMs) half-open, where exactly one call probes → closed on success,
 * open again on failure.
 */
export interface CircuitBreaker {
  /** allow says whether a call may go out now (in half-open, only the one probe). */
  allow(): boolean;
  success(): void;
  failure(): void;
  state(): "closed" | "open" | "half-open";
}

/** createCircuitBreaker returns a closed breaker. */
export function createCircuitBreaker(options: CircuitBreakerOptions): CircuitBreaker {
  const now = options.now ?? Date.now;
  let failures = 0;
  let openedAt: number | null = null;
  let probing = false;

  function state(): "closed" | "open" | "half-open" {
    if (openedAt === null) return "closed";
    return now() - openedAt >= options.openMs ? "half-open" : "open";
  }

  return {
    allow() {
      const s = state();
      if (s === "closed") return true;
      if (s === "open" || probing) return false;
      probing = true;
      return true;
    },
    success() {
      failures = 0;
      openedAt = null;
      probing = false;
    },
    failure() {
      failures += 1;
      if (probing || failures >= options.failureThreshold) openedAt = now();
      probing = false;
    },
    state,
  };
}
