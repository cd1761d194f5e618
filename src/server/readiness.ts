/** ReadinessView is what `GET /ready` answers: the KMS status and whether it serves keys. */
export interface ReadinessView {
  status: string;
  ready: boolean;
}

/** Readiness answers whether the KMS can serve key operations now. */
export interface Readiness {
  /** check resolves with the current view; it never rejects. */
  check(): Promise<ReadinessView>;
}

/** ReadinessOptions tune createReadiness. */
export interface ReadinessOptions {
  /** How long one answer is reused (1 s), so a flood of probes costs one backend check a second. */
  cacheMs?: number;
  /** How long a check may take before it counts as not ready (5 s). */
  timeoutMs?: number;
}

/**
 * createReadiness turns the engine's status (which health-checks the backend) into
 * readiness: ready only while the status is Running and the backend healthy. Concurrent
 * probes share one check, answers are cached for `cacheMs`, and a check that fails or
 * takes longer than `timeoutMs` answers not ready with status "Error", so a stuck
 * backend makes the gateway unready instead of making every probe hang.
 */
export function createReadiness(
  status: () => Promise<{ status: string; healthy: boolean }>,
  options: ReadinessOptions = {},
): Readiness {
  const cacheMs = options.cacheMs ?? 1_000;
  const timeoutMs = options.timeoutMs ?? 5_000;
  let cached: { view: ReadinessView; at: number } | undefined;
  let inFlight: Promise<ReadinessView> | undefined;

  async function probe(): Promise<ReadinessView> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<ReadinessView>((resolve) => {
      timer = setTimeout(() => resolve({ status: "Error", ready: false }), timeoutMs);
    });
    try {
      return await Promise.race([
        status().then(
          (s) => ({ status: s.status, ready: s.status === "Running" && s.healthy }),
          () => ({ status: "Error", ready: false }),
        ),
        timedOut,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    check() {
      if (cached !== undefined && performance.now() - cached.at < cacheMs) {
        return Promise.resolve(cached.view);
      }
      inFlight ??= probe().then((view) => {
        cached = { view, at: performance.now() };
        inFlight = undefined;
        return view;
      });
      return inFlight;
    },
  };
}
