import type { SweepOutcome } from "./gateway-metrics.js";
import type { Logger } from "./logger.js";

/**
 * SWEEP_LOG_MESSAGES are the engine's log messages that mark a deletion sweep outcome.
 * The engine reports its sweep only through its log, so the metrics read it there; a
 * test (test/ops/metrics-endpoint.test.ts) drives a real sweep so a renamed message fails.
 */
export const SWEEP_LOG_MESSAGES: Readonly<Record<string, SweepOutcome>> = {
  "key destroyed after its deletion date": "destroyed",
  "deletion sweep could not check a key": "key_failed",
  "deletion sweep failed": "sweep_failed",
};

/** countingEngineLog passes every line to `log` and counts the ones that mark a sweep outcome. */
export function countingEngineLog(log: Logger, onSweep: (outcome: SweepOutcome) => void): Logger {
  const tapped: Logger = (level, message, fields) => {
    const outcome = SWEEP_LOG_MESSAGES[message];
    if (outcome !== undefined) onSweep(outcome);
    log(level, message, fields);
  };
  if (log.writeLine !== undefined) tapped.writeLine = log.writeLine;
  return tapped;
}
