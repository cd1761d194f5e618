import { Bench } from "tinybench";
import { formatTable } from "../format-table.js";
import { authorizeMicro } from "./authorize-micro.js";
import { engineMicro } from "./engine-micro.js";
import { envelopeMicro } from "./envelope-micro.js";
import { loggerMicro } from "./logger-micro.js";
import type { MicroBench } from "./micro-bench.js";
import { restMicro } from "./rest-micro.js";
import { sigv4Micro } from "./sigv4-micro.js";

/** MicroResult is one micro-benchmark's mean cost and its verdict. */
export interface MicroResult {
  name: string;
  /** Wall-clock operations per second (tinybench's mean period). */
  opsPerSecond: number;
  /** Wall-clock µs per operation. */
  usPerOp: number;
  /** Process CPU (user + system) µs per operation over the timed iterations. */
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

/** timeOne warms an operation up, then times it with tinybench while reading the process CPU clock. */
async function timeOne(b: MicroBench, timeMs: number): Promise<MicroResult> {
  const targetUs = b.targetUs ?? null;
  const warmUntil = performance.now() + Math.min(500, timeMs);
  while (performance.now() < warmUntil) await b.fn();
  const bench = new Bench({ time: timeMs, warmup: false });
  bench.add(b.name, b.fn);
  const cpuBefore = process.cpuUsage();
  await bench.run();
  const cpu = process.cpuUsage(cpuBefore);
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
  const cpuUsPerOp = (cpu.user + cpu.system) / Math.max(1, task.runs);
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
 * (tinybench) with the process CPU µs/op, which carries the verdict against
 * the target.
 */
export async function runMicro(timeMs: number): Promise<MicroResult[]> {
  const groups = [sigv4Micro, authorizeMicro, envelopeMicro, engineMicro, restMicro, loggerMicro];
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
