import type { LoadResult } from "./load-result.js";
import { WRK_RESULT_MARKER } from "./wrk-script.js";

/**
 * parseWrkResult reads the line wrkScript's done() printed from wrk's whole
 * stdout. Errors are wrk's socket errors (connect, read, write, timeout) plus
 * its status errors (answers with a status of 400 or more). Throws when the
 * line is missing, e.g. because wrk failed before the run.
 */
export function parseWrkResult(stdout: string): LoadResult {
  const line = stdout.split("\n").find((l) => l.startsWith(WRK_RESULT_MARKER));
  if (line === undefined) throw new Error(`wrk printed no result line:\n${stdout.slice(-2000)}`);
  const r = JSON.parse(line.slice(WRK_RESULT_MARKER.length)) as Record<string, number>;
  const num = (name: string): number => {
    const value = r[name];
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw new Error(`wrk result line has no number "${name}"`);
    }
    return value;
  };
  const seconds = num("durationUs") / 1e6;
  const requests = num("requests");
  return {
    requests,
    seconds,
    requestsPerSecond: seconds > 0 ? requests / seconds : 0,
    p50Us: num("p50"),
    p99Us: num("p99"),
    p999Us: num("p999"),
    errors: num("connect") + num("read") + num("write") + num("timeout") + num("status"),
  };
}
