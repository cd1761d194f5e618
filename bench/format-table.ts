import type { ServerFacts, Verdict } from "./evaluate-targets.js";
import { ratioOf } from "./evaluate-targets.js";
import type { ScenarioResult } from "./run-scenario.js";

const MB = 1024 * 1024;

/** formatTable lays rows out as a Markdown table with padded columns (readable in a terminal too). */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

function ms(us: number): string {
  return (us / 1000).toFixed(2);
}

function verdictMark(met: boolean | null): string {
  return met === null ? "n/a" : met ? "met" : "MISSED";
}

/**
 * formatResultsTable is the one table of a run: a row per scenario with its
 * median run, the server's CPU per request and RSS, the ratio to its
 * baseline, and the verdicts of the targets that belong to the row.
 */
export function formatResultsTable(
  scenarios: readonly ScenarioResult[],
  servers: readonly ServerFacts[],
  verdicts: readonly Verdict[],
): string {
  const header = [
    "scenario",
    "req/s",
    "p50 ms",
    "p99 ms",
    "p99.9 ms",
    "errors",
    "CPU µs/req",
    "RSS idle MB",
    "RSS load MB",
    "ratio to baseline",
    "targets",
  ];
  const rows = scenarios.map((s) => {
    const server = servers.find((f) => f.name === s.server);
    const idle = server === undefined ? "" : (server.rssIdleBytes / MB).toFixed(0);
    const own = verdicts.filter((v) => v.scenario === s.name);
    const targets =
      own.length === 0
        ? ""
        : own.every((v) => v.met === true)
          ? "met"
          : own.some((v) => v.met === false)
            ? `MISSED ${own.filter((v) => v.met === false).length}/${own.length}`
            : "n/a";
    const m = s.median;
    if (m === null) {
      return [
        s.name,
        "FAILED",
        "",
        "",
        "",
        "",
        "",
        idle,
        "",
        "",
        s.failure === null ? "" : "not timed",
      ];
    }
    const ratio = s.baseline === undefined ? null : ratioOf(scenarios, s.name, s.baseline);
    return [
      s.name,
      Math.round(m.requestsPerSecond).toLocaleString("en-US"),
      ms(m.p50Us),
      ms(m.p99Us),
      ms(m.p999Us),
      String(m.errors),
      m.cpuUsPerRequest === null ? "" : m.cpuUsPerRequest.toFixed(0),
      idle,
      (m.rssPeakBytes / MB).toFixed(0),
      ratio === null ? "" : `${ratio.toFixed(2)} (${shortBaseline(s.baseline as string)})`,
      targets,
    ];
  });
  return formatTable(header, rows);
}

function shortBaseline(name: string): string {
  return name.replace(/^baseline /, "").replace(/, .*$/, "");
}

/** formatVerdicts lists every target with what was measured and whether it is met. */
export function formatVerdicts(verdicts: readonly Verdict[]): string {
  return formatTable(
    ["target", "measured", "verdict"],
    verdicts.map((v) => [v.target, v.measured, verdictMark(v.met)]),
  );
}

/** formatServers lists each server's command, start-up time and idle RSS. */
export function formatServers(servers: readonly ServerFacts[]): string {
  return formatTable(
    ["server", "command", "start-up s", "RSS idle MB"],
    servers.map((s) => [
      s.keyCount === undefined ? s.name : `${s.name} (${s.keyCount.toLocaleString("en-US")} keys)`,
      s.label,
      (s.startupMs / 1000).toFixed(2),
      (s.rssIdleBytes / MB).toFixed(1),
    ]),
  );
}
