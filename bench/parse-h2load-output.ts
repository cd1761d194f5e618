import type { LoadResult } from "./load-result.js";
import { percentile } from "./percentile.js";

/**
 * parseH2loadOutput combines h2load's summary (stdout) with its per-request
 * log (`--log-file`: start µs, status, µs to the end of the response, tab
 * separated). Requests are those done; the window is h2load's "finished in";
 * percentiles come from the log's successful rows. Errors are h2load's failed
 * requests (which include the errored and timed-out ones) plus answers with a
 * 4xx or 5xx status. h2load does
 * not read gRPC trailers, so a gRPC error status inside an HTTP 200 is not
 * seen here: that is why each scenario's answer is checked before it is timed.
 */
export function parseH2loadOutput(stdout: string, log: string): LoadResult {
  const finished = /finished in ([\d.]+)(ms|s),/.exec(stdout);
  const counts =
    /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(
      stdout,
    );
  const statuses = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(stdout);
  if (finished === null || counts === null || statuses === null) {
    throw new Error(`h2load printed no summary:\n${stdout.slice(-2000)}`);
  }
  const seconds = Number(finished[1]) / (finished[2] === "ms" ? 1000 : 1);
  const requests = Number(counts[3]);
  const latencies: number[] = [];
  for (const row of log.split("\n")) {
    const [, status, micros] = row.split("\t");
    if (status === undefined || micros === undefined) continue;
    if (Number(status) > 0) latencies.push(Number(micros));
  }
  const sorted = Float64Array.from(latencies).sort();
  return {
    requests,
    seconds,
    requestsPerSecond: seconds > 0 ? requests / seconds : 0,
    p50Us: percentile(sorted, 50),
    p99Us: percentile(sorted, 99),
    p999Us: percentile(sorted, 99.9),
    errors: Number(counts[5]) + Number(statuses[3]) + Number(statuses[4]),
  };
}
