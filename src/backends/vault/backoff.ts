/** BackoffOptions tune backoffDelayMs. */
export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /** A number in [0, 1); injectable for tests. */
  random?: () => number;
}

/**
 * backoffDelayMs is the wait before retry number `attempt` (1 for the first
 * retry): exponential, capped, with full jitter, so replicas that failed
 * together do not retry together.
 */
export function backoffDelayMs(attempt: number, options: BackoffOptions): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** (attempt - 1));
  return Math.floor((options.random ?? Math.random)() * ceiling);
}
