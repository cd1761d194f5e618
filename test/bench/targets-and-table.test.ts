import { describe, expect, it } from "vitest";
import { evaluateTargets, type ServerFacts, type Verdict } from "../../bench/evaluate-targets.js";
import { formatResultsTable, formatTable, formatVerdicts } from "../../bench/format-table.js";
import type { ScenarioResult, TimedRun } from "../../bench/run-scenario.js";
import {
  BASELINE_CONNECT_GRPC,
  BASELINE_GRPC_JS,
  BASELINE_HTTP,
  BASELINE_HTTP_WORK,
} from "../../bench/scenarios.js";

const MB = 1024 * 1024;

function run(rps: number, p50Us = 1000, p99Us = 2000, rssMb = 100): TimedRun {
  return {
    requests: rps * 10,
    seconds: 10,
    requestsPerSecond: rps,
    p50Us,
    p99Us,
    p999Us: p99Us * 2,
    errors: 0,
    cpuUsPerRequest: 1e6 / rps,
    rssPeakBytes: rssMb * MB,
  };
}

function scenario(
  name: string,
  server: string,
  median: TimedRun | null,
  baseline?: string,
): ScenarioResult {
  return {
    name,
    server,
    tool: "wrk",
    ...(baseline === undefined ? {} : { baseline }),
    failure: median === null ? "wrong answer: HTTP 401" : null,
    runs: median === null ? [] : [median],
    median,
  };
}

const servers: ServerFacts[] = [
  { name: "gateway", label: "compiled", startupMs: 300, rssIdleBytes: 70 * MB, keyCount: 1000 },
  {
    name: "gateway-large",
    label: "compiled",
    startupMs: 6000,
    rssIdleBytes: 90 * MB,
    keyCount: 100_000,
  },
];

const scenarios: ScenarioResult[] = [
  scenario(BASELINE_HTTP, "bare-http", run(40_000)),
  scenario("REST generate-data-key", "gateway", run(22_000), BASELINE_HTTP),
  scenario("REST describe", "gateway", run(21_000, 1000, 3500), BASELINE_HTTP),
  scenario("REST decrypt", "gateway", null, BASELINE_HTTP),
  scenario(BASELINE_GRPC_JS, "grpc-js", run(20_000)),
  scenario(BASELINE_CONNECT_GRPC, "connect-noop", run(4_000)),
  scenario(
    "gRPC generate-data-key (h2c)",
    "gateway",
    run(9_000, 1000, 2000, 160),
    BASELINE_GRPC_JS,
  ),
  scenario("REST list, 1k keys", "gateway", run(5_000, 1000)),
  scenario("REST list, large key count", "gateway-large", run(4_000, 2500), "REST list, 1k keys"),
];

function verdict(verdicts: Verdict[], target: string): Verdict {
  const found = verdicts.find((v) => v.target.startsWith(target));
  if (found === undefined) throw new Error(`no verdict ${target}`);
  return found;
}

describe("evaluateTargets", () => {
  const verdicts = evaluateTargets({
    scenarios,
    servers,
    processTree: {
      command: "npm start",
      nodeProcesses: 3,
      launcherIsNode: true,
      rssBytes: 200 * MB,
    },
  });

  it("compares each gateway scenario with its baseline", () => {
    expect(verdict(verdicts, "REST generate-data-key ≥ 0.50")).toMatchObject({
      met: true,
      measured: "0.55 × (stretch 0.60: not met)",
    });
    expect(verdict(verdicts, "gRPC generate-data-key (h2c) ≥ 0.50").met).toBe(false);
    expect(verdict(verdicts, "gRPC generate-data-key (h2c) > no-op connect-node").met).toBe(true);
  });

  it("reports a failed scenario's targets as not measured, never as met", () => {
    expect(verdict(verdicts, "REST decrypt ≥")).toMatchObject({
      met: null,
      measured: "not measured",
    });
    expect(verdict(verdicts, "REST decrypt: p99")).toMatchObject({ met: null });
    expect(verdict(verdicts, "Connect JSON").met).toBeNull();
    expect(verdict(verdicts, "Vault backend").met).toBeNull();
  });

  it("checks p99 ≤ 3 × p50 per gateway scenario", () => {
    expect(verdict(verdicts, "REST generate-data-key: p99").met).toBe(true);
    expect(verdict(verdicts, "REST describe: p99")).toMatchObject({
      met: false,
      measured: "p99/p50 = 3.5",
    });
    expect(verdicts.some((v) => v.target.startsWith(BASELINE_HTTP))).toBe(false);
  });

  it("names node:http's own tail beside the p99 verdicts of scenarios that cost about as much", () => {
    // 50 µs per request: REST describe (47.6 µs) is comparable, the 1k list (200 µs) is not.
    const working = scenario(BASELINE_HTTP_WORK, "bare-http-work", run(20_000, 1000, 4200));
    const withWorking = evaluateTargets({ scenarios: [...scenarios, working], servers });
    expect(verdict(withWorking, "REST describe: p99")).toMatchObject({
      met: false,
      measured: "p99/p50 = 3.5 (node:http doing 100 µs of work: 4.2)",
    });
    expect(verdict(withWorking, "REST list, 1k keys: p99").measured).toBe("p99/p50 = 2.0");
    expect(withWorking.some((v) => v.target.startsWith(BASELINE_HTTP_WORK))).toBe(false);
  });

  it("checks RSS idle and the peak under load, the process tree, the list page and start-up", () => {
    expect(verdict(verdicts, "gateway RSS ≤ 80 MB idle").met).toBe(true);
    expect(verdict(verdicts, "gateway RSS ≤ 150 MB under load")).toMatchObject({ met: false });
    expect(verdict(verdicts, "the README's run command").met).toBe(false);
    expect(verdict(verdicts, "list page at 100,000 keys").met).toBe(false);
    expect(verdict(verdicts, "start-up ≤ 5 s at 100,000 keys").met).toBe(false);
  });

  it("counts npm itself out of the process tree: one serving process meets the target", () => {
    const tree = { command: "npm start", nodeProcesses: 2, launcherIsNode: true, rssBytes: 0 };
    const again = evaluateTargets({ scenarios, servers, processTree: tree });
    expect(verdict(again, "the README's run command").met).toBe(true);
  });
});

describe("formatting", () => {
  it("pads a Markdown table", () => {
    expect(formatTable(["a", "bb"], [["ccc", "d"]])).toBe(
      "| a   | bb |\n| --- | -- |\n| ccc | d  |",
    );
  });

  it("prints one row per scenario, FAILED for one not timed, ratios and row verdicts", () => {
    const verdicts = evaluateTargets({ scenarios, servers });
    const table = formatResultsTable(scenarios, servers, verdicts);
    const row = (name: string) => table.split("\n").find((l) => l.startsWith(`| ${name} `)) ?? "";
    expect(row("REST generate-data-key")).toMatch(/22,000 .*\| 0\.55 \(node:http\) +\| met/);
    expect(row("REST decrypt")).toMatch(/FAILED.*not timed/);
    expect(row("REST describe")).toContain("MISSED 1/2");
    expect(formatVerdicts(verdicts)).toMatch(
      /REST decrypt ≥ 0\.50 × bare node:http +\| not measured +\| n\/a/,
    );
  });
});
