import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import { processRssBytes } from "./process-rss.js";
import { testCredentials } from "./signed-fetch.js";

/** GatewayProcess is a gateway started as a real child process (`src/cli.ts`). */
export interface GatewayProcess {
  url: string;
  port: number;
  dataDir: string;
  child: ChildProcess;
  /** The process id of the gateway itself (node runs src/cli.ts in this very process). */
  pid: number;
  /** rssBytes reads the gateway's resident set size (VmRSS) from /proc/<pid>/status. */
  rssBytes(): number;
  /** Every line the process wrote to stderr so far (its JSON log). */
  logLines: string[];
  /** stop sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** newDataDir makes a fresh temporary data directory. */
export function newDataDir(): string {
  return mkdtempSync(join(tmpdir(), "kms-gateway-test-"));
}

/** GatewaySpawnOptions choose the data dir, extra flags and environment, and optionally the user. */
export interface GatewaySpawnOptions {
  dataDir?: string;
  args?: string[];
  env?: Record<string, string>;
  /** Run as this user and group (the tests run as root, which every directory lets in). */
  uid?: number;
  gid?: number;
}

/**
 * gatewayEnv is the whole environment a test gateway, or a client process
 * that signs with the test credentials, runs with: PATH and HOME (nothing
 * else leaks in from the test runner) and the test credentials.
 */
export function gatewayEnv(): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "",
    RUSTFS_ACCESS_KEY: testCredentials.accessKeyId,
    RUSTFS_SECRET_KEY: testCredentials.secretAccessKey,
  };
}

/** gatewayArgs are the CLI flags of a test gateway: 127.0.0.1, a free port, `dataDir`. */
export function gatewayArgs(dataDir: string): string[] {
  return ["--address", "127.0.0.1:0", "--data-dir", dataDir];
}

/** spawnGateway runs `node --import tsx src/cli.ts` on 127.0.0.1 port 0 with the test credentials. */
function spawnGateway(options: GatewaySpawnOptions & { dataDir: string }): ChildProcess {
  const root = new URL("../..", import.meta.url).pathname;
  return spawn(
    process.execPath,
    ["--import", "tsx", "src/cli.ts", ...gatewayArgs(options.dataDir), ...(options.args ?? [])],
    {
      cwd: root,
      env: { ...gatewayEnv(), ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
      uid: options.uid,
      gid: options.gid,
    },
  );
}

/** GatewayExit is how a gateway process that was expected to stop by itself ended. */
export interface GatewayExit {
  code: number | null;
  /** Every line it wrote to stderr. */
  logLines: string[];
  /** From spawn to exit. */
  ms: number;
}

/**
 * runGatewayUntilExit starts a gateway that is expected to refuse to start
 * and resolves with its exit code and log once it exits; after `timeoutMs` it
 * is killed and the promise rejects.
 */
export async function runGatewayUntilExit(
  options: GatewaySpawnOptions & { dataDir: string; timeoutMs?: number },
): Promise<GatewayExit> {
  const started = Date.now();
  const child = spawnGateway(options);
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(`gateway did not exit within ${options.timeoutMs ?? 20_000} ms:\n${stderr}`),
      );
    }, options.timeoutMs ?? 20_000);
    // "close", not "exit": the log is complete only once stderr has ended.
    child.once("close", (exitCode) => {
      clearTimeout(timer);
      resolve(exitCode);
    });
  });
  return {
    code,
    logLines: stderr.split("\n").filter((line) => line !== ""),
    ms: Date.now() - started,
  };
}

/**
 * waitForListening appends every line `child` writes to stderr to `logLines`
 * and resolves with the url of its "listening" log line. It rejects when the
 * child exits first or after `timeoutMs`, naming `what` and quoting `extra()`
 * (its stdout, say) and the log.
 */
export function waitForListening(
  child: ChildProcess,
  logLines: string[],
  options: { what: string; timeoutMs: number; extra?: () => string },
): Promise<string> {
  const said = () => [options.extra?.(), ...logLines].filter((x) => x !== undefined).join("\n");
  return new Promise<string>((resolve, reject) => {
    let buffered = "";
    const timer = setTimeout(
      () =>
        reject(
          new Error(`${options.what} did not listen within ${options.timeoutMs} ms:\n${said()}`),
        ),
      options.timeoutMs,
    );
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        logLines.push(line);
        try {
          const entry = JSON.parse(line) as { message?: string; url?: string };
          if (entry.message === "listening" && entry.url) {
            clearTimeout(timer);
            resolve(entry.url);
          }
        } catch {
          // not a JSON log line (npm's own output, say)
        }
      }
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${options.what} exited (${code ?? signal}):\n${said()}`));
    });
  });
}

/**
 * startGateway runs `node --import tsx src/cli.ts` on 127.0.0.1 port 0 with
 * the test credentials and waits for its "listening" log line.
 */
export async function startGateway(options: GatewaySpawnOptions = {}): Promise<GatewayProcess> {
  const dataDir = options.dataDir ?? newDataDir();
  const child = spawnGateway({ ...options, dataDir });
  const logLines: string[] = [];
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  const url = await waitForListening(child, logLines, { what: "gateway", timeoutMs: 20_000 });
  return {
    url,
    port: Number(new URL(url).port),
    dataDir,
    child,
    pid: child.pid ?? -1,
    rssBytes: () => processRssBytes(child.pid ?? -1),
    logLines,
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
      }
      return exited;
    },
  };
}

/** UseGatewayOptions choose what useGateway starts, how often, and what it seeds. */
export interface UseGatewayOptions {
  /** spawn gives the start options, asked at start time (after a certificate exists, say). */
  spawn?: () => GatewaySpawnOptions;
  /** A fresh gateway for every case instead of one per file (or describe block). */
  freshPerCase?: boolean;
  /** seed runs on each gateway once it listens, before any case (to create keys, say). */
  seed?: (gw: GatewayProcess) => Promise<void>;
}

/**
 * useGateway registers, in the calling file or describe block, the start of a
 * gateway process before its cases and its stop after them. It returns a view
 * of the current gateway, usable inside cases (it throws when none runs).
 */
export function useGateway(options: UseGatewayOptions = {}): GatewayProcess {
  let current: GatewayProcess | undefined;
  const gw = (): GatewayProcess => {
    if (current === undefined) throw new Error("no gateway is running outside a case");
    return current;
  };
  const start = async () => {
    current = await startGateway(options.spawn?.());
    await options.seed?.(current);
  };
  const stop = async () => {
    await current?.stop();
  };
  if (options.freshPerCase) {
    beforeEach(start);
    afterEach(stop);
  } else {
    beforeAll(start);
    afterAll(stop);
  }
  return {
    get url() {
      return gw().url;
    },
    get port() {
      return gw().port;
    },
    get dataDir() {
      return gw().dataDir;
    },
    get child() {
      return gw().child;
    },
    get pid() {
      return gw().pid;
    },
    rssBytes: () => gw().rssBytes(),
    get logLines() {
      return gw().logLines;
    },
    stop: (signal) => gw().stop(signal),
  };
}
