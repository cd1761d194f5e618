import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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

/**
 * startGateway runs `node --import tsx src/cli.ts` on 127.0.0.1 port 0 with
 * the test credentials and waits for its "listening" log line.
 */
export async function startGateway(
  options: { dataDir?: string; args?: string[]; env?: Record<string, string> } = {},
): Promise<GatewayProcess> {
  const dataDir = options.dataDir ?? newDataDir();
  const root = new URL("../..", import.meta.url).pathname;
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "src/cli.ts",
      "--address",
      "127.0.0.1:0",
      "--data-dir",
      dataDir,
      ...(options.args ?? []),
    ],
    {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "",
        RUSTFS_ACCESS_KEY: testCredentials.accessKeyId,
        RUSTFS_SECRET_KEY: testCredentials.secretAccessKey,
        ...options.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const logLines: string[] = [];
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  const url = await new Promise<string>((resolve, reject) => {
    let buffered = "";
    const timer = setTimeout(
      () => reject(new Error(`gateway did not start:\n${logLines.join("\n")}`)),
      20_000,
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
          // not a JSON log line
        }
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code}:\n${logLines.join("\n")}`));
    });
  });
  return {
    url,
    port: Number(new URL(url).port),
    dataDir,
    child,
    pid: child.pid ?? -1,
    rssBytes: () => readRssBytes(child.pid ?? -1),
    logLines,
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
      }
      return exited;
    },
  };
}

/** readRssBytes is a process's VmRSS from /proc (Linux), in bytes. */
export function readRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (match?.[1] === undefined) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}
