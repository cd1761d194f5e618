/** ReplayCacheOptions tune createReplayCache. */
export interface ReplayCacheOptions {
  /** How long a signature stays remembered: SigV4's window (15 minutes either way → 30). */
  windowMs: number;
  /** At most this many signatures are remembered at once. */
  maxEntries: number;
  now?: () => number;
}

/** ReplayVerdict is what the cache says about a signature it is shown. */
export type ReplayVerdict = "fresh" | "replayed" | "full";

/**
 * ReplayCache remembers the signatures of accepted requests for as long as they
 * could be replayed, so `--reject-replays` can refuse a second use. Memory is
 * bounded: when `maxEntries` signatures are remembered and none has expired, a new
 * one is refused (`full`: the caller answers 503) rather than forgetting an old one,
 * which would let that one be replayed.
 */
export interface ReplayCache {
  /** check records `signature` and says whether it was new, already seen, or could not be recorded. */
  check(signature: string): ReplayVerdict;
  size(): number;
}

/** createReplayCache returns an empty cache. */
export function createReplayCache(options: ReplayCacheOptions): ReplayCache {
  const now = options.now ?? Date.now;
  // Insertion order is expiry order (every entry lives windowMs): expire from the front.
  const expiries = new Map<string, number>();

  function expire(at: number): void {
    for (const [signature, expiry] of expiries) {
      if (expiry > at) return;
      expiries.delete(signature);
    }
  }

  return {
    check(signature) {
      const at = now();
      expire(at);
      // 128 bits of the signature identify it; storing half keeps the memory per entry small.
      const id = signature.slice(0, 32);
      if (expiries.has(id)) return "replayed";
      if (expiries.size >= options.maxEntries) return "full";
      expiries.set(id, at + options.windowMs);
      return "fresh";
    },
    size: () => expiries.size,
  };
}
