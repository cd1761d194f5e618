/** BenchOptions say what `npm run bench` runs and for how long. */
export interface BenchOptions {
  /** Seconds each timed run lasts. */
  durationSeconds: number;
  /** Seconds of untimed load before a scenario's timed runs. */
  warmupSeconds: number;
  /** Timed runs per scenario; the run with the median requests/s is reported. */
  runs: number;
  /** Concurrent connections of the load generator. */
  connections: number;
  /** Keys in the data directory of the hot-path gateway and of the 1k list scenario. */
  smallKeyCount: number;
  /** Keys of the large list / start-up scenario. */
  largeKeyCount: number;
  /** Only scenarios whose name contains one of these (empty = all). */
  only: string[];
  /** Run the micro-benchmarks instead of the load scenarios. */
  micro: boolean;
  /** Profile the gateway (node --cpu-prof) under the selected gateway scenarios instead. */
  profile: boolean;
  /** Core of the servers and core of the load generators (taskset). */
  serverCore: number;
  loadCore: number;
}

/** benchUsage is the text of `npm run bench -- --help`. */
export const benchUsage = `Usage: npm run bench -- [--quick] [--micro] [--profile] [--only NAME[,NAME…]]

  --quick          check the harness: 2 s runs, 1 s warm-up, 1 run, 10,000 large keys
  --micro          micro-benchmarks of the hot path's pieces (tinybench) instead
  --profile        node --cpu-prof of the gateway under each selected gateway scenario;
                   prints the top self-time functions (use with --only)
  --only NAMES     scenarios whose name contains one of NAMES (comma-separated)

Environment: BENCH_DURATION (10s), BENCH_WARMUP (3s), BENCH_RUNS (3),
  BENCH_CONNECTIONS (64), BENCH_KEYS (1000), BENCH_LARGE_KEYS (100000),
  BENCH_SERVER_CORE (0), BENCH_LOAD_CORE (1)
`;

/**
 * parseBenchOptions reads flags and BENCH_* variables; flags win over the
 * environment, and --quick only changes what neither set. Throws an Error with
 * a message fit for the terminal on a bad value.
 */
export function parseBenchOptions(argv: readonly string[], env: NodeJS.ProcessEnv): BenchOptions {
  let quick = false;
  let micro = false;
  let profile = false;
  const only: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--quick") quick = true;
    else if (arg === "--micro") micro = true;
    else if (arg === "--profile") profile = true;
    else if (arg === "--only" || arg.startsWith("--only=")) {
      const value = arg === "--only" ? argv[++i] : arg.slice("--only=".length);
      if (value === undefined || value === "") throw new Error("--only needs scenario names");
      only.push(...value.split(",").filter((name) => name !== ""));
    } else throw new Error(`unknown argument ${JSON.stringify(arg)}\n\n${benchUsage}`);
  }
  const options: BenchOptions = {
    durationSeconds: seconds(env.BENCH_DURATION, quick ? 2 : 10, "BENCH_DURATION"),
    warmupSeconds: seconds(env.BENCH_WARMUP, quick ? 1 : 3, "BENCH_WARMUP"),
    runs: integer(env.BENCH_RUNS, quick ? 1 : 3, "BENCH_RUNS", 1, 20),
    connections: integer(env.BENCH_CONNECTIONS, 64, "BENCH_CONNECTIONS", 1, 10_000),
    smallKeyCount: integer(env.BENCH_KEYS, 1000, "BENCH_KEYS", 1, 1_000_000),
    largeKeyCount: integer(
      env.BENCH_LARGE_KEYS,
      quick ? 10_000 : 100_000,
      "BENCH_LARGE_KEYS",
      1,
      1_000_000,
    ),
    only,
    micro,
    profile,
    serverCore: integer(env.BENCH_SERVER_CORE, 0, "BENCH_SERVER_CORE", 0, 1023),
    loadCore: integer(env.BENCH_LOAD_CORE, 1, "BENCH_LOAD_CORE", 0, 1023),
  };
  // Each scenario replays one signature, which the gateway accepts for 15 minutes.
  const scenarioSeconds = options.warmupSeconds + options.runs * options.durationSeconds;
  if (scenarioSeconds > MAX_SCENARIO_SECONDS) {
    throw new Error(
      `warm-up + runs × duration is ${scenarioSeconds} s per scenario; a signed request is valid for 15 minutes, so keep it under ${MAX_SCENARIO_SECONDS} s`,
    );
  }
  return options;
}

/** MAX_SCENARIO_SECONDS keeps a scenario inside its signature's 15-minute window, with a margin. */
const MAX_SCENARIO_SECONDS = 14 * 60;

/** seconds parses `10`, `10s`, `1.5s` or `2m`; wrk and h2load take whole seconds, so it rounds up. */
function seconds(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === "") return fallback;
  const match = /^(\d+(?:\.\d+)?)(s|m)?$/.exec(value.trim());
  if (match === null)
    throw new Error(`${name} must look like 10s or 2m, not ${JSON.stringify(value)}`);
  const amount = Number(match[1]) * (match[2] === "m" ? 60 : 1);
  if (amount <= 0 || amount > 3600) throw new Error(`${name} must be between 1 s and 1 h`);
  return Math.ceil(amount);
}

function integer(
  value: string | undefined,
  fallback: number,
  name: string,
  min: number,
  max: number,
): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < min || n > max) {
    throw new Error(
      `${name} must be an integer from ${min} to ${max}, not ${JSON.stringify(value)}`,
    );
  }
  return n;
}
