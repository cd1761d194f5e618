import { Bench } from "tinybench";
import { formatTable } from "../format-table.js";
import { engineMicro } from "./engine-micro.js";
import { envelopeMicro } from "./envelope-micro.js";
import { loggerMicro } from "./logger-micro.js";
import type { MicroBench } from "./micro-bench.js";
import { restMicro } from "./rest-micro.js";
import { sigv4Micro } from "./sigv4-micro.js";

/** MicroResult is one micro-benchmark's mean cost and its verdict. */
export interface MicroResult {
  name: string;
  opsPerSecond: number;
  usPerOp: number;
  /** Relative margin of error of the mean, in percent. */
  rme: number;
  targetUs: number | null;
  met: boolean | null;
  error?: string;
}

/**
 * runMicro times every piece of the hot path with tinybench (each for
 * `timeMs` after a warm-up), one piece at a time in this process, and
 * returns ops/s, µs/op and the verdict against the target.
 */
export async function runMicro(timeMs: number): Promise<MicroResult[]> {
  const groups = [sigv4Micro, envelopeMicro, engineMicro, restMicro, loggerMicro];
  const results: MicroResult[] = [];
  for (const group of groups) {
    let benches: MicroBench[];
    try {
      benches = await group();
    } catch (err) {
      results.push({
        name: group.name,
        opsPerSecond: 0,
        usPerOp: 0,
        rme: 0,
        targetUs: null,
        met: null,
        error: (err as Error).message,
      });
      continue;
    }
    const bench = new Bench({ time: timeMs, warmupTime: Math.min(500, timeMs) });
    for (const b of benches) bench.add(b.name, b.fn);
    await bench.run();
    for (const b of benches) {
      const task = bench.getTask(b.name);
      const r = task?.result;
      const targetUs = b.targetUs ?? null;
      if (r === undefined || !("period" in r)) {
        const error = r !== undefined && "error" in r ? r.error.message : "no result";
        results.push({
          name: b.name,
          opsPerSecond: 0,
          usPerOp: 0,
          rme: 0,
          targetUs,
          met: null,
          error,
        });
        continue;
      }
      const usPerOp = r.period * 1000;
      results.push({
        name: b.name,
        opsPerSecond: 1e6 / usPerOp,
        usPerOp,
        rme: r.latency.rme,
        targetUs,
        met: targetUs === null ? null : usPerOp <= targetUs,
      });
    }
    for (const b of benches) await b.teardown?.();
  }
  return results;
}

/** formatMicro prints the micro-benchmark table. */
export function formatMicro(results: readonly MicroResult[]): string {
  return formatTable(
    ["piece", "ops/s", "µs/op", "±%", "target µs", "verdict"],
    results.map((r) => [
      r.name,
      r.error === undefined ? Math.round(r.opsPerSecond).toLocaleString("en-US") : "FAILED",
      r.error === undefined ? r.usPerOp.toFixed(2) : (r.error ?? "").slice(0, 60),
      r.error === undefined ? r.rme.toFixed(1) : "",
      r.targetUs === null ? "" : `≤ ${r.targetUs}`,
      r.met === null ? "" : r.met ? "met" : "MISSED",
    ]),
  );
}
