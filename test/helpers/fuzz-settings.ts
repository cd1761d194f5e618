import type { Parameters } from "fast-check";

/**
 * DEFAULT_FUZZ_SEED is the seed CI uses, so a red build is reproducible byte for byte; a
 * different one comes from KMS_FUZZ_SEED (fast-check prints the seed and path of a failure).
 */
export const DEFAULT_FUZZ_SEED = 0x6b6d73;

function positiveInteger(name: string, text: string | undefined): number | undefined {
  if (text === undefined || text === "") return undefined;
  if (!/^\d{1,9}$/.test(text) || Number(text) < 1) {
    // A typo must not silently fall back to the short CI run.
    throw new Error(`${name} must be a positive integer, not ${JSON.stringify(text)}`);
  }
  return Number(text);
}

/** fuzzSeed is the seed of every property run: KMS_FUZZ_SEED, or DEFAULT_FUZZ_SEED. */
export const fuzzSeed = (() => {
  const text = process.env.KMS_FUZZ_SEED;
  if (text === undefined || text === "") return DEFAULT_FUZZ_SEED;
  if (!/^-?\d{1,10}$/.test(text)) {
    throw new Error(`KMS_FUZZ_SEED must be an integer, not ${JSON.stringify(text)}`);
  }
  return Number(text) | 0;
})();

/** fuzzRunsOverride is KMS_FUZZ_RUNS (long mode: every property runs that many cases), or undefined. */
export const fuzzRunsOverride = positiveInteger("KMS_FUZZ_RUNS", process.env.KMS_FUZZ_RUNS);

/**
 * fuzzRuns is how many cases a property generates: its own CI default, sized so that all
 * property files together stay well under 20 s on one core; in long mode KMS_FUZZ_RUNS times
 * `longModeShare` (at least 1). The share is 1 except for properties whose single case does
 * the work of hundreds (every bit flip of an envelope, a 1 MiB body), so that long mode stays
 * a matter of minutes.
 */
export function fuzzRuns(ciDefault: number, longModeShare = 1): number {
  return fuzzRunsOverride === undefined
    ? ciDefault
    : Math.max(1, Math.round(fuzzRunsOverride * longModeShare));
}

/**
 * fuzzTestTimeoutMs is the vitest timeout for one property: 20 s in CI, so a property that
 * slows down by an order of magnitude fails instead of stretching the run; an hour in long
 * mode. Neither can interrupt a synchronous endless loop (no timer fires while it runs):
 * expectFast covers the form such a hang takes in practice, work that outgrows its input.
 */
export const fuzzTestTimeoutMs = fuzzRunsOverride === undefined ? 20_000 : 3_600_000;

/**
 * fuzzSettings are the fast-check parameters every property test uses: the fixed seed, the
 * number of runs, and for asynchronous properties a per-case timeout so a case that never
 * settles fails as a hang instead of stalling the suite. `verbose` makes a failure print the
 * shrunk counterexample and the path to replay it. See fuzzRuns for the number of runs.
 */
export function fuzzSettings<T>(ciDefaultRuns: number, longModeShare = 1): Parameters<T> {
  return {
    seed: fuzzSeed,
    numRuns: fuzzRuns(ciDefaultRuns, longModeShare),
    // Far above any single case (the costliest, a 1 MiB body, takes well under a second), so
    // only a case that never settles trips it, however loaded the machine.
    timeout: 10_000,
    verbose: 1,
  };
}

/**
 * expectFast runs fn (awaiting it when it returns a promise) and fails when it costs more
 * than budgetMs of this process's CPU time. A synchronous parser that loops forever cannot be interrupted in-process, so
 * the properties that feed parsers their largest allowed inputs use this to catch what makes a
 * hang in practice: work that grows faster than the input (backtracking regular expressions,
 * quadratic loops). The budgets are orders of magnitude above the normal cost, and CPU time
 * does not grow when other processes share the cores.
 */
export function expectFast<T>(fn: () => T, budgetMs: number, what: string): T {
  // This process's CPU time, not wall time: on a machine shared with other work the
  // process may get a fraction of a core, and a wall-clock budget then fails for
  // reasons that have nothing to do with the code (seen at a load average of 15).
  // A super-linear blow-up still costs CPU seconds and fails the budget.
  const start = process.cpuUsage();
  const check = () => {
    const used = process.cpuUsage(start);
    const elapsed = (used.user + used.system) / 1000;
    if (elapsed > budgetMs) {
      throw new Error(
        `${what} took ${elapsed.toFixed(1)} ms of CPU, over the ${budgetMs} ms budget`,
      );
    }
  };
  const result = fn();
  if (result instanceof Promise) {
    return result.then((value: unknown) => {
      check();
      return value;
    }) as T;
  }
  check();
  return result;
}
