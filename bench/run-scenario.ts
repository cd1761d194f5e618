import type { LoadResult } from "./load-result.js";
import {
  clockTicksPerSecond,
  cpuMicrosPerRequest,
  createRssSampler,
  readCpuTicks,
} from "./proc-stats.js";
import { runLoad } from "./run-load.js";
import type { PreparedScenario, ScenarioDef } from "./scenarios.js";
import { sendHttp1, sendHttp2 } from "./send-once.js";

/** TimedRun is one timed run: the load generator's figures and the server's CPU and peak RSS. */
export interface TimedRun extends LoadResult {
  /** Server user + system CPU per completed request, µs; null when none completed. */
  cpuUsPerRequest: number | null;
  rssPeakBytes: number;
}

/** ScenarioResult is one row: its runs, or why it was not timed. */
export interface ScenarioResult {
  name: string;
  server: string;
  tool: "wrk" | "h2load";
  baseline?: string;
  /** Why the scenario was not timed (its check failed or it could not be prepared); else null. */
  failure: string | null;
  runs: TimedRun[];
  /** The run with the median requests/s (the lower middle for an even count). */
  median: TimedRun | null;
}

/** ScenarioSettings are the harness options one scenario needs. */
export interface ScenarioSettings {
  warmupSeconds: number;
  durationSeconds: number;
  runs: number;
  connections: number;
  loadCore: number;
  /** Called just before the first timed run (after the check and the warm-up). */
  onTimedStart?: () => void;
}

/** medianRun picks the run with the median requests/s. */
export function medianRun<T extends { requestsPerSecond: number }>(runs: readonly T[]): T | null {
  if (runs.length === 0) return null;
  const sorted = [...runs].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond);
  return sorted[Math.floor((sorted.length - 1) / 2)] as T;
}

/**
 * runScenario checks the scenario's signed request once (same bytes the load
 * generator will send) and, only when the answer is right, warms up and runs
 * the timed runs, reading the server's CPU from /proc before and after each
 * run and sampling its RSS during it.
 */
export async function runScenario(
  def: ScenarioDef,
  prepare: () => Promise<PreparedScenario>,
  serverPid: number,
  settings: ScenarioSettings,
  log: (line: string) => void,
): Promise<ScenarioResult> {
  const result: ScenarioResult = {
    name: def.name,
    server: def.server,
    tool: def.tool,
    ...(def.baseline === undefined ? {} : { baseline: def.baseline }),
    failure: null,
    runs: [],
    median: null,
  };
  let prepared: PreparedScenario;
  try {
    prepared = await prepare();
    const send = def.tool === "h2load" ? sendHttp2 : sendHttp1;
    const wrong = prepared.check(await send(prepared.baseUrl, prepared.request));
    if (wrong !== null) throw new Error(`wrong answer: ${wrong}`);
  } catch (err) {
    result.failure = (err as Error).message;
    log(`  ${def.name}: FAILED, not timed: ${result.failure}`);
    return result;
  }
  const load = {
    tool: def.tool,
    baseUrl: prepared.baseUrl,
    request: prepared.request,
    connections: settings.connections,
    core: settings.loadCore,
  };
  if (settings.warmupSeconds > 0) await runLoad({ ...load, seconds: settings.warmupSeconds });
  settings.onTimedStart?.();
  for (let i = 0; i < settings.runs; i++) {
    const before = readCpuTicks(serverPid);
    const rss = createRssSampler(serverPid);
    const measured = await runLoad({ ...load, seconds: settings.durationSeconds });
    const after = readCpuTicks(serverPid);
    const run: TimedRun = {
      ...measured,
      cpuUsPerRequest: cpuMicrosPerRequest(before, after, measured.requests, clockTicksPerSecond()),
      rssPeakBytes: rss.stop(),
    };
    result.runs.push(run);
    log(
      `  ${def.name}: run ${i + 1}/${settings.runs}: ${Math.round(run.requestsPerSecond)} req/s, ` +
        `p99 ${(run.p99Us / 1000).toFixed(2)} ms, ${run.errors} errors`,
    );
  }
  result.median = medianRun(result.runs);
  return result;
}
