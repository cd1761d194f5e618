import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";

/** ServerProcess is a server started on one core by startServerProcess. */
export interface ServerProcess {
  name: string;
  /** The Node process itself (taskset execs it, so it keeps this pid). */
  pid: number;
  /** The `url` of its listening line. */
  url: string;
  /** Every field of its listening line, e.g. connect-noop's `connectUrl`. */
  announced: Record<string, unknown>;
  /** Milliseconds from spawn to the listening line. */
  startupMs: number;
  /** The last lines it wrote to stderr, for error messages. */
  logTail(lines?: number): string;
  /** stop sends SIGTERM (SIGKILL after 15 s) and resolves when it has exited. */
  stop(): Promise<void>;
}

/** ServerProcessOptions say what to run, where, and where its stderr goes. */
export interface ServerProcessOptions {
  name: string;
  /** Arguments after `node`, e.g. `["--import", "tsx", "src/cli.ts", …]`. */
  nodeArgs: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** The core to pin it to with `taskset`; unpinned (plain `node`, no util-linux needed) when absent. */
  core?: number;
  /** stderr goes to this file rather than a pipe, so the harness spends no CPU reading the log. */
  logFile: string;
  startTimeoutMs?: number;
}

/**
 * startServerProcess runs `taskset -c CORE node ARGS` (plain `node ARGS` without
 * a core) and waits for the
 * process to print a JSON line `{"message":"listening","url":…}` on stderr
 * (the gateway's log line, which the baselines imitate).
 */
export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const fd = openSync(options.logFile, "w");
  const started = performance.now();
  const [command, args] =
    options.core === undefined
      ? [process.execPath, options.nodeArgs]
      : ["taskset", ["-c", String(options.core), process.execPath, ...options.nodeArgs]];
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ["ignore", "ignore", fd],
  });
  closeSync(fd);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let exitedEarly = false;
  child.once("exit", () => {
    exitedEarly = true;
  });
  const logTail = (lines = 20) =>
    existsSync(options.logFile)
      ? readFileSync(options.logFile, "utf8")
          .split("\n")
          .slice(-lines - 1)
          .join("\n")
      : "";
  const deadline = started + (options.startTimeoutMs ?? 120_000);
  let announced: Record<string, unknown> | undefined;
  let scanned = 0;
  while (announced === undefined) {
    if (exitedEarly) throw new Error(`${options.name} exited before listening:\n${logTail()}`);
    if (performance.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${options.name} did not start in time:\n${logTail()}`);
    }
    const text = readFileSync(options.logFile, "utf8");
    const complete = text.lastIndexOf("\n") + 1;
    for (const line of text.slice(scanned, complete).split("\n")) {
      announced ??= listeningLine(line);
    }
    scanned = complete;
    if (announced === undefined) await new Promise((r) => setTimeout(r, 5));
  }
  const startupMs = performance.now() - started;
  if (child.pid === undefined) throw new Error(`${options.name} has no pid`);
  return {
    name: options.name,
    pid: child.pid,
    url: String(announced.url),
    announced,
    startupMs,
    logTail,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

function listeningLine(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith("{")) return undefined;
  try {
    const entry = JSON.parse(line) as Record<string, unknown>;
    return entry.message === "listening" && typeof entry.url === "string" ? entry : undefined;
  } catch {
    return undefined;
  }
}
