/**
 * run-bench is `npm run bench`: see bench/README.md. It seeds data
 * directories, starts each server pinned to one core, checks and drives each
 * scenario from the other core, and prints one table with the issue's
 * verdicts; results go to bench/results/<date>.json.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type BenchOptions, benchUsage, parseBenchOptions } from "./bench-options.js";
import { ensureLoadGenerators } from "./ensure-load-generators.js";
import { evaluateTargets, type ServerFacts } from "./evaluate-targets.js";
import { formatResultsTable, formatServers, formatTable, formatVerdicts } from "./format-table.js";
import { type GatewayCommand, gatewayCommand } from "./gateway-command.js";
import { compiledMicro } from "./micro/compiled-micro.js";
import { formatMicro, runMicro } from "./micro/run-micro.js";
import { readRssBytes } from "./proc-stats.js";
import { measureProcessTree, type ProcessTreeFacts } from "./process-tree.js";
import { runScenario, type ScenarioResult } from "./run-scenario.js";
import { BASELINE_WORK_US, type ScenarioDef, type ServerName, scenarios } from "./scenarios.js";
import { type SeededDataDir, seedKeys } from "./seed-keys.js";
import { type ServerProcess, startServerProcess } from "./server-process.js";
import { type CpuProfile, summarizeCpuProfile } from "./summarize-cpu-profile.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const resultsDir = join(root, "bench/results");
const credentials = { accessKeyId: "bench-admin", secretAccessKey: "bench-secret-0123456789" };
const log = (line: string) => process.stderr.write(`${line}\n`);

/** Each baseline's script and its arguments. */
const baselineScripts: Record<Exclude<ServerName, "gateway" | "gateway-large">, string[]> = {
  "bare-http": ["bench/baselines/bare-http-server.ts"],
  "bare-http-work": ["bench/baselines/bare-http-server.ts", "--work-us", `${BASELINE_WORK_US}`],
  "bare-http2": ["bench/baselines/bare-http2-server.ts"],
  "grpc-js": ["bench/baselines/grpc-js-noop-server.ts"],
  "connect-noop": ["bench/baselines/connect-noop-server.ts"],
};

function serverEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "",
    NODE_ENV: "production",
    RUSTFS_ACCESS_KEY: credentials.accessKeyId,
    RUSTFS_SECRET_KEY: credentials.secretAccessKey,
  };
}

interface RunContext {
  options: BenchOptions;
  gateway: GatewayCommand;
  logDir: string;
  seeded: Partial<Record<"gateway" | "gateway-large", SeededDataDir>>;
}

function startServer(
  ctx: RunContext,
  name: ServerName,
  extraNodeArgs: string[] = [],
): Promise<ServerProcess> {
  const isGateway = name === "gateway" || name === "gateway-large";
  const nodeArgs = isGateway
    ? [
        ...extraNodeArgs,
        ...ctx.gateway.nodeArgs,
        "--address",
        "127.0.0.1:0",
        "--data-dir",
        (ctx.seeded[name] as SeededDataDir).dataDir,
      ]
    : [...extraNodeArgs, "--import", "tsx", ...baselineScripts[name]];
  return startServerProcess({
    name,
    nodeArgs,
    cwd: root,
    env: serverEnv(),
    core: ctx.options.serverCore,
    logFile: join(ctx.logDir, `${name}.log`),
  });
}

function prepareFor(def: ScenarioDef, server: ServerProcess, ctx: RunContext) {
  const seeded = ctx.seeded[def.server as "gateway" | "gateway-large"];
  return () =>
    def.prepare({
      url: server.url,
      announced: server.announced,
      keyId: "bench-000000",
      keyCount: seeded?.keyCount ?? 0,
      credentials,
    });
}

async function seed(
  ctx: RunContext,
  selected: readonly ScenarioDef[],
  workDir: string,
): Promise<void> {
  const counts = { gateway: ctx.options.smallKeyCount, "gateway-large": ctx.options.largeKeyCount };
  for (const name of ["gateway", "gateway-large"] as const) {
    if (!selected.some((s) => s.server === name)) continue;
    log(
      `seeding ${counts[name].toLocaleString("en-US")} keys for ${name} (through the engine, in-process)`,
    );
    const dir = join(workDir, name);
    mkdirSync(dir);
    ctx.seeded[name] = await seedKeys(dir, counts[name]);
    log(`  done in ${ctx.seeded[name]?.seconds.toFixed(1)} s`);
  }
}

function toolVersions(): Record<string, string> {
  const first = (cmd: string, args: string[]) => {
    try {
      return (
        execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).split(
          "\n",
        )[0] ?? ""
      );
    } catch (err) {
      return String((err as { stdout?: string }).stdout ?? "").split("\n")[0] ?? "unknown";
    }
  };
  const cpu = /model name\s*:\s*(.*)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? "unknown";
  return {
    node: process.version,
    wrk: first("wrk", ["-v"]),
    h2load: first("h2load", ["--version"]),
    cpu,
  };
}

function stamp(): string {
  return new Date()
    .toISOString()
    .replace(/:/g, "-")
    .replace(/\.\d+Z$/, "Z");
}

async function loadScenarios(ctx: RunContext, selected: readonly ScenarioDef[]): Promise<void> {
  const { options } = ctx;
  const order: ServerName[] = [];
  for (const s of selected) if (!order.includes(s.server)) order.push(s.server);
  const servers: ServerFacts[] = [];
  const results: ScenarioResult[] = [];
  for (const name of order) {
    log(`starting ${name}`);
    const server = await startServer(ctx, name);
    try {
      await new Promise((r) => setTimeout(r, 1000)); // let start-up garbage be collected
      const isGateway = name.startsWith("gateway");
      servers.push({
        name,
        label: isGateway
          ? ctx.gateway.label
          : `node --import tsx ${baselineScripts[name as keyof typeof baselineScripts].join(" ")}`,
        startupMs: server.startupMs,
        rssIdleBytes: readRssBytes(server.pid),
        ...(isGateway ? { keyCount: ctx.seeded[name as "gateway"]?.keyCount ?? 0 } : {}),
      });
      for (const def of selected.filter((s) => s.server === name)) {
        results.push(
          await runScenario(def, prepareFor(def, server, ctx), server.pid, options, log),
        );
      }
    } catch (err) {
      log(`${name}: ${(err as Error).message}\n${server.logTail()}`);
      throw err;
    } finally {
      await server.stop();
      rmSync(join(ctx.logDir, `${name}.log`), { force: true });
    }
  }
  let processTree: ProcessTreeFacts | undefined;
  if (options.only.length === 0) {
    log("measuring the process tree of `npm start`");
    const dataDir = mkdtempSync(join(tmpdir(), "kgw-bench-tree-"));
    try {
      processTree = await measureProcessTree(
        "npm",
        ["start", "--", "--address", "127.0.0.1:0", "--data-dir", dataDir],
        { cwd: root, env: serverEnv() },
      );
    } catch (err) {
      log(`process tree: ${(err as Error).message}`);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  const verdicts = evaluateTargets({
    scenarios: results,
    servers,
    ...(processTree ? { processTree } : {}),
  });
  const out = [
    "",
    `kms-gateway benchmark — ${new Date().toISOString()}; gateway: ${ctx.gateway.label}`,
    `${options.connections} connections, ${options.durationSeconds} s × ${options.runs} run(s) (median shown) after ${options.warmupSeconds} s warm-up; servers on core ${options.serverCore}, load on core ${options.loadCore}`,
    "",
    formatResultsTable(results, servers, verdicts),
    "",
    formatServers(servers),
    "",
    formatVerdicts(verdicts),
    "",
  ].join("\n");
  process.stdout.write(out);
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${stamp()}.json`);
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        machine: toolVersions(),
        options,
        gateway: ctx.gateway,
        servers,
        scenarios: results,
        processTree,
        verdicts,
      },
      null,
      2,
    )}\n`,
  );
  log(`results written to ${file}`);
  if (results.some((r) => r.failure !== null)) process.exitCode = 1;
}

async function profileScenarios(ctx: RunContext, selected: readonly ScenarioDef[]): Promise<void> {
  const gatewayScenarios = selected.filter((s) => s.server.startsWith("gateway"));
  mkdirSync(join(resultsDir, "profiles"), { recursive: true });
  for (const def of gatewayScenarios) {
    const profDir = mkdtempSync(join(tmpdir(), "kgw-bench-prof-"));
    const spawned = performance.now();
    const server = await startServer(ctx, def.server, ["--cpu-prof", `--cpu-prof-dir=${profDir}`]);
    // The profile starts with the process: leave its start-up and the warm-up out of the summary.
    let fromUs = 0;
    const settings = {
      ...ctx.options,
      runs: 1,
      onTimedStart: () => {
        fromUs = (performance.now() - spawned) * 1000;
      },
    };
    try {
      await runScenario(def, prepareFor(def, server, ctx), server.pid, settings, log);
    } finally {
      await server.stop();
    }
    const file = readdirSync(profDir).find((f) => f.endsWith(".cpuprofile"));
    if (file === undefined) {
      log(`${def.name}: the gateway wrote no profile`);
      continue;
    }
    const text = readFileSync(join(profDir, file), "utf8");
    const slug = def.name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-|-$/g, "");
    const kept = join(resultsDir, "profiles", `${stamp()}-${slug}.cpuprofile`);
    writeFileSync(kept, text);
    rmSync(profDir, { recursive: true, force: true });
    const summary = summarizeCpuProfile(JSON.parse(text) as CpuProfile, 30, { fromUs });
    writeFileSync(
      kept.replace(/\.cpuprofile$/, ".summary.json"),
      `${JSON.stringify(summary, null, 2)}\n`,
    );
    const rows = (
      list: { percent: number; selfMs: number; functionName: string; location: string }[],
    ) => list.map((t) => [t.percent.toFixed(1), t.selfMs.toFixed(0), t.functionName, t.location]);
    process.stdout.write(
      [
        "",
        `CPU profile of the gateway (${ctx.gateway.label}) under ${def.name}, timed run only:`,
        `${summary.busyMs.toFixed(0)} ms busy, ${summary.idleMs.toFixed(0)} ms idle; shares are of the busy time (${kept})`,
        "",
        "Self time by area:",
        formatTable(
          ["self %", "self ms", "area"],
          summary.areas
            .slice(0, 20)
            .map((a) => [a.percent.toFixed(1), a.selfMs.toFixed(0), a.area]),
        ),
        "",
        "Functions by self time:",
        formatTable(["self %", "self ms", "function", "location"], rows(summary.top)),
        "",
        "The project's functions by inclusive time (themselves and what they call):",
        formatTable(
          ["total %", "total ms", "function", "location"],
          rows(summary.inclusive.slice(0, 20)),
        ),
        "",
      ].join("\n"),
    );
  }
}

async function main(): Promise<void> {
  if (process.argv.includes("--help") || process.argv.includes("-h")) {
    process.stdout.write(benchUsage);
    return;
  }
  if (process.argv.includes("--vault")) {
    // The Vault backend's scenarios (bench/vault-scenarios.ts); in-process, no load generators.
    const { runVaultScenarios } = await import("./vault-scenarios.js");
    process.stdout.write(`${await runVaultScenarios(process.argv.includes("--quick") ? 2 : 10)}\n`);
    return;
  }
  let options: BenchOptions;
  try {
    options = parseBenchOptions(process.argv.slice(2), process.env);
  } catch (err) {
    log((err as Error).message);
    process.exit(2);
  }
  if (options.micro) {
    const timeMs = options.durationSeconds * 100;
    const compiled = compiledMicro(root, timeMs, log);
    const results = compiled?.results ?? (await runMicro(timeMs));
    const label = compiled?.label ?? "tsx";
    process.stdout.write(
      `\nmicro-benchmarks (${label}; tinybench wall clock, CPU from a plain loop)\n\n${formatMicro(results)}\n`,
    );
    mkdirSync(resultsDir, { recursive: true });
    const file = join(resultsDir, `${stamp()}-micro.json`);
    writeFileSync(
      file,
      `${JSON.stringify({ date: new Date().toISOString(), machine: toolVersions(), code: label, results }, null, 2)}\n`,
    );
    log(`results written to ${file}`);
    return;
  }
  ensureLoadGenerators(log);
  // The harness itself runs beside the load generators, never on the server's core.
  execFileSync("taskset", ["-p", "-c", String(options.loadCore), String(process.pid)], {
    stdio: "ignore",
  });
  const selected = scenarios.filter(
    (s) =>
      options.only.length === 0 ||
      options.only.some((o) => s.name.toLowerCase().includes(o.toLowerCase())),
  );
  if (selected.length === 0)
    throw new Error(`no scenario matches --only ${options.only.join(",")}`);
  // Not /dev/shm: the gateway refuses key directories under /dev (issue 5, item 9).
  const workDir = mkdtempSync(join(tmpdir(), "kgw-bench-"));
  const logDir = mkdtempSync(join(tmpdir(), "kgw-bench-logs-"));
  const ctx: RunContext = { options, gateway: gatewayCommand(root, log), logDir, seeded: {} };
  log(`gateway: ${ctx.gateway.label}`);
  try {
    await seed(
      ctx,
      options.profile ? selected.filter((s) => s.server.startsWith("gateway")) : selected,
      workDir,
    );
    if (options.profile) await profileScenarios(ctx, selected);
    else await loadScenarios(ctx, selected);
  } finally {
    rmSync(workDir, { recursive: true, force: true });
    rmSync(logDir, { recursive: true, force: true });
  }
}

await main();
