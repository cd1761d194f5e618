import type { ScenarioResult, TimedRun } from "./run-scenario.js";
import {
  BASELINE_CONNECT_GRPC,
  BASELINE_GRPC_JS,
  BASELINE_HTTP,
  BASELINE_HTTP_WORK,
  BASELINE_WORK_US,
} from "./scenarios.js";

/** Verdict is one target of issue 6: what was measured and whether it is met (null: not measured). */
export interface Verdict {
  target: string;
  measured: string;
  met: boolean | null;
  /** The table row the verdict belongs to, if any. */
  scenario?: string;
}

/** ServerFacts are a server's start-up time and idle RSS. */
export interface ServerFacts {
  name: string;
  label: string;
  startupMs: number;
  rssIdleBytes: number;
  keyCount?: number;
}

/** TargetInputs are everything the verdicts are computed from. */
export interface TargetInputs {
  scenarios: readonly ScenarioResult[];
  servers: readonly ServerFacts[];
  /** Node processes in the tree of the README's run command, with its launcher named. */
  processTree?: {
    command: string;
    nodeProcesses: number;
    launcherIsNode: boolean;
    rssBytes: number;
  };
}

const MB = 1024 * 1024;

function rps(scenarios: readonly ScenarioResult[], name: string): number | null {
  return scenarios.find((s) => s.name === name)?.median?.requestsPerSecond ?? null;
}

/** ratioOf is a scenario's median requests/s over its baseline's, or null when either is missing. */
export function ratioOf(
  scenarios: readonly ScenarioResult[],
  name: string,
  baseline: string,
): number | null {
  const a = rps(scenarios, name);
  const b = rps(scenarios, baseline);
  return a === null || b === null || b === 0 ? null : a / b;
}

function ratioVerdict(
  inputs: TargetInputs,
  scenario: string,
  baseline: string,
  min: number,
  label: string,
  stretch?: number,
): Verdict {
  const ratio = ratioOf(inputs.scenarios, scenario, baseline);
  const stretchNote =
    stretch === undefined || ratio === null
      ? ""
      : ` (stretch ${stretch.toFixed(2)}: ${ratio >= stretch ? "met" : "not met"})`;
  return {
    target: `${scenario} ≥ ${min.toFixed(2)} × ${label}`,
    measured: ratio === null ? "not measured" : `${ratio.toFixed(2)} ×${stretchNote}`,
    met: ratio === null ? null : ratio >= min,
    scenario,
  };
}

/**
 * evaluateTargets turns measurements into the verdicts, in the
 * issue's order. A target whose inputs are missing (a failed scenario, a
 * backend that does not exist yet) is reported as not measured, never as met.
 */
export function evaluateTargets(inputs: TargetInputs): Verdict[] {
  const { scenarios, servers } = inputs;
  const verdicts: Verdict[] = [
    ratioVerdict(inputs, "REST generate-data-key", BASELINE_HTTP, 0.5, "bare node:http", 0.6),
    ratioVerdict(inputs, "REST describe", BASELINE_HTTP, 0.5, "bare node:http"),
    ratioVerdict(inputs, "REST decrypt", BASELINE_HTTP, 0.5, "bare node:http"),
    ratioVerdict(inputs, "gRPC generate-data-key (h2c)", BASELINE_GRPC_JS, 0.5, "no-op grpc-js"),
  ];
  const overConnect = ratioOf(scenarios, "gRPC generate-data-key (h2c)", BASELINE_CONNECT_GRPC);
  verdicts.push({
    target: "gRPC generate-data-key (h2c) > no-op connect-node over gRPC",
    measured: overConnect === null ? "not measured" : `${overConnect.toFixed(2)} ×`,
    met: overConnect === null ? null : overConnect > 1,
    scenario: "gRPC generate-data-key (h2c)",
  });
  verdicts.push(
    ratioVerdict(
      inputs,
      "Connect JSON generate-data-key (HTTP/1.1)",
      BASELINE_HTTP,
      0.5,
      "bare node:http",
    ),
  );
  // What node:http's own tail is when each request costs about a gateway call, in the same run.
  const working = scenarios.find((s) => s.name === BASELINE_HTTP_WORK)?.median ?? null;
  for (const s of scenarios) {
    if (!s.server.startsWith("gateway")) continue;
    const m = s.median;
    verdicts.push({
      target: `${s.name}: p99 ≤ 3 × p50`,
      measured:
        m === null
          ? "not measured"
          : `p99/p50 = ${tailRatio(m).toFixed(1)}${tailReference(m, working)}`,
      met: m === null ? null : m.p99Us <= 3 * m.p50Us,
      scenario: s.name,
    });
  }
  const gateway = servers.find((s) => s.name === "gateway");
  verdicts.push({
    target: "gateway RSS ≤ 80 MB idle",
    measured:
      gateway === undefined ? "not measured" : `${(gateway.rssIdleBytes / MB).toFixed(1)} MB`,
    met: gateway === undefined ? null : gateway.rssIdleBytes <= 80 * MB,
  });
  const peaks = scenarios
    .filter((s) => s.server === "gateway" && s.median !== null)
    .flatMap((s) => s.runs.map((r) => r.rssPeakBytes));
  const peak = peaks.length === 0 ? null : Math.max(...peaks);
  verdicts.push({
    target: "gateway RSS ≤ 150 MB under load",
    measured: peak === null ? "not measured" : `${(peak / MB).toFixed(1)} MB (peak)`,
    met: peak === null ? null : peak <= 150 * MB,
  });
  const tree = inputs.processTree;
  const served = tree === undefined ? null : tree.nodeProcesses - (tree.launcherIsNode ? 1 : 0);
  verdicts.push({
    target: "the README's run command adds no second Node process",
    measured:
      tree === undefined || served === null
        ? "not measured"
        : `\`${tree.command}\`: ${tree.nodeProcesses} Node process(es)${tree.launcherIsNode ? " incl. npm" : ""}, tree RSS ${(tree.rssBytes / MB).toFixed(0)} MB`,
    met: served === null ? null : served <= 1,
  });
  const small = scenarios.find((s) => s.name === "REST list, 1k keys")?.median;
  const large = scenarios.find((s) => s.name === "REST list, large key count");
  const largeServer = servers.find((s) => s.name === "gateway-large");
  const keys = largeServer?.keyCount ?? 0;
  verdicts.push({
    target: `list page at ${keys.toLocaleString("en-US")} keys: p50 ≤ 2 × the 1k-key p50`,
    measured:
      small == null || large?.median == null
        ? "not measured"
        : `${(large.median.p50Us / 1000).toFixed(2)} ms vs ${(small.p50Us / 1000).toFixed(2)} ms`,
    met: small == null || large?.median == null ? null : large.median.p50Us <= 2 * small.p50Us,
    scenario: "REST list, large key count",
  });
  verdicts.push({
    target: `start-up ≤ 5 s at ${keys.toLocaleString("en-US")} keys`,
    measured:
      largeServer === undefined
        ? "not measured"
        : `${(largeServer.startupMs / 1000).toFixed(2)} s, idle RSS ${(largeServer.rssIdleBytes / MB).toFixed(1)} MB`,
    met: largeServer === undefined ? null : largeServer.startupMs <= 5000,
  });
  if (keys < 100_000 && largeServer !== undefined) {
    verdicts.push({
      target: "the 100,000-key targets need BENCH_LARGE_KEYS=100000",
      measured: `ran with ${keys}`,
      met: null,
    });
  }
  verdicts.push({
    target: "Vault backend, cache on: a repeated decrypt costs no Vault request",
    measured:
      "not in this run: test/backends/vault/vault-wire.test.ts asserts it; `npm run bench -- --vault` counts Vault requests per call",
    met: null,
  });
  return verdicts;
}

/** tailRatio is a run's p99 over its p50. */
function tailRatio(run: { p50Us: number; p99Us: number }): number {
  return run.p99Us / Math.max(1, run.p50Us);
}

/**
 * tailReference names the working node:http baseline's p99/p50 beside a scenario's, when
 * the two cost about the same CPU per request (within a factor of 2): a list page costing
 * ten times more has no reference in this run.
 */
function tailReference(run: TimedRun, working: TimedRun | null): string {
  if (working === null || run.cpuUsPerRequest === null || working.cpuUsPerRequest === null) {
    return "";
  }
  const cost = run.cpuUsPerRequest / working.cpuUsPerRequest;
  if (cost < 0.5 || cost > 2) return "";
  return ` (node:http doing ${BASELINE_WORK_US} µs of work: ${tailRatio(working).toFixed(1)})`;
}
