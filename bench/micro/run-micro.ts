import { Bench } from "tinybench";
import { formatTable } from "../format-table.js";
import { authorizeMicro } from "./authorize-micro.js";
import { engineMicro } from "./engine-micro.js";
import { envelopeMicro } from "./envelope-micro.js";
import { loggerMicro } from "./logger-micro.js";
import type { MicroBench } from "./micro-bench.js";
import { restMicro } from "./rest-micro.js";
import { rpcJsonMicro } from "./rpc-json-micro.js";
import { sigv4Micro } from "./sigv4-micro.js";

/** MicroResult is one micro-benchmark's mean cost and its verdict. */
export interface MicroResult {
  name: string;
  /** Wall-clock operations per second (tinybench's mean period). */
  opsPerSecond: number;
  /** Wall-clock µs per operation. */
  usPerOp: number;
  /** Process CPU (user + system) µs per operation, measured in a plain loop (loopCpuUsPerOp). */
  cpuUsPerOp: number;
  /** Relative margin of error of the wall-clock mean, in percent. */
  rme: number;
  targetUs: number | null;
  /** The verdict is on CPU µs/op, which other processes on a shared machine barely move. */
  met: boolean | null;
  error?: string;
}

function failed(name: string, targetUs: number | null, error: string): MicroResult {
  return { name, opsPerSecond: 0, usPerOp: 0, cpuUsPerOp: 0, rme: 0, targetUs, met: null, error };
}

/**
 * loopCpuUsPerOp runs an operation back to back (awaiting it when it returns a promise) for `timeMs` and returns the process CPU
 * (user + system) per call. The clock is read once per batch of calls, and nothing is
 * stored per call, so the figure is the operation's own cost: tinybench's run reads the
 * clock twice per call, keeps every sample and sorts them afterwards (millions of
 * samples for a sub-microsecond piece), which inflated the CPU per call of the fastest
 * pieces several times over.
 */
export async function loopCpuUsPerOp(fn: () => unknown, timeMs: number): Promise<number> {
  let batch = 1;
  let runs = 0;
  const until = performance.now() + timeMs;
  const cpuBefore = process.cpuUsage();
  while (performance.now() < until) {
    for (let i = 0; i < batch; i++) {
      const result = fn();
      if (result instanceof Promise) await result;
    }
    runs += batch;
    if (batch < 4096) batch *= 2;
  }
  const cpu = process.cpuUsage(cpuBefore);
  return (cpu.user + cpu.system) / Math.max(1, runs);
}

/**
 * timeOne warms an operation up, times it with tinybench (wall clock, margin of error),
 * then measures its CPU per call in a plain loop (loopCpuUsPerOp) for as long again.
 */
async function timeOne(b: MicroBench, timeMs: number): Promise<MicroResult> {
  const targetUs = b.targetUs ?? null;
  const warmUntil = performance.now() + Math.min(500, timeMs);
  while (performance.now() < warmUntil) await b.fn();
  const bench = new Bench({ time: timeMs, warmup: false });
  bench.add(b.name, b.fn);
  await bench.run();
  const task = bench.getTask(b.name);
  const r = task?.result;
  if (task === undefined || r === undefined || !("period" in r)) {
    return failed(
      b.name,
      targetUs,
      r !== undefined && "error" in r ? r.error.message : "no result",
    );
  }
  const usPerOp = r.period * 1000;
  const cpuUsPerOp = await loopCpuUsPerOp(b.fn, timeMs);
  return {
    name: b.name,
    opsPerSecond: 1e6 / usPerOp,
    usPerOp,
    cpuUsPerOp,
    rme: r.latency.rme,
    targetUs,
    met: targetUs === null ? null : cpuUsPerOp <= targetUs,
  };
}

/**
 * runMicro times every piece of the hot path, one at a time in this process,
 * each for `timeMs` after a warm-up, and returns wall-clock ops/s and µs/op
 * (tinybench) with the process CPU µs/op of a plain loop, which carries the
 * verdict against the target.
 */
export async function runMicro(timeMs: number): Promise<MicroResult[]> {
  const groups = [
    sigv4Micro,
    authorizeMicro,
    envelopeMicro,
    engineMicro,
    restMicro,
    rpcJsonMicro,
    loggerMicro,
  ];
  const results: MicroResult[] = [];
  for (const group of groups) {
    let benches: MicroBench[];
    try {
      benches = await group();
    } catch (err) {
      results.push(failed(group.name, null, (err as Error).message));
      continue;
    }
    for (const b of benches) {
      try {
        results.push(await timeOne(b, timeMs));
      } catch (err) {
        results.push(failed(b.name, b.targetUs ?? null, (err as Error).message));
      }
    }
    for (const b of benches) await b.teardown?.();
  }
  return results;
}

/** formatMicro prints the micro-benchmark table. */
export function formatMicro(results: readonly MicroResult[]): string {
  return formatTable(
    ["piece", "ops/s", "µs/op", "±%", "CPU µs/op", "target µs", "verdict (on CPU µs)"],
    results.map((r) => [
      r.name,
      r.error === undefined ? Math.round(r.opsPerSecond).toLocaleString("en-US") : "FAILED",
      r.error === undefined ? r.usPerOp.toFixed(2) : (r.error ?? "").slice(0, 60),
      r.error === undefined ? r.rme.toFixed(1) : "",
      r.error === undefined ? r.cpuUsPerOp.toFixed(2) : "",
      r.targetUs === null ? "" : `≤ ${r.targetUs}`,
      r.met === null ? "" : r.met ? "met" : "MISSED",
    ]),
  );
}
