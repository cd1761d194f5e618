import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LoadResult } from "./load-result.js";
import { parseH2loadOutput } from "./parse-h2load-output.js";
import { parseWrkResult } from "./parse-wrk-result.js";
import { type HttpRequestSpec, wrkScript } from "./wrk-script.js";

/** LoadRun says how to drive one scenario once. */
export interface LoadRun {
  tool: "wrk" | "h2load";
  baseUrl: string;
  request: HttpRequestSpec;
  seconds: number;
  connections: number;
  /** The core the load generator is pinned to. */
  core: number;
}

function run(command: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs },
      (err, stdout, stderr) => {
        if (err !== null)
          reject(new Error(`${command} failed: ${err.message}\n${stderr}\n${stdout}`));
        else resolve(stdout);
      },
    );
  });
}

/**
 * runLoad drives the request for `seconds` with one load-generator thread
 * pinned to `core`: wrk (HTTP/1.1, keep-alive) or h2load (h2c, one stream in
 * flight per connection, so both keep `connections` requests outstanding).
 */
export async function runLoad(load: LoadRun): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), "kgw-bench-load-"));
  const timeoutMs = (load.seconds + 60) * 1000;
  const taskset = ["-c", String(load.core)];
  try {
    if (load.tool === "wrk") {
      const script = join(dir, "request.lua");
      writeFileSync(script, wrkScript(load.request));
      const stdout = await run(
        "taskset",
        [
          ...taskset,
          "wrk",
          "-t1",
          `-c${load.connections}`,
          `-d${load.seconds}s`,
          "--timeout",
          "10s",
          "-s",
          script,
          `${load.baseUrl}${load.request.path}`,
        ],
        timeoutMs,
      );
      return parseWrkResult(stdout);
    }
    const bodyFile = join(dir, "body.bin");
    const logFile = join(dir, "requests.tsv");
    writeFileSync(bodyFile, load.request.body);
    const headerArgs = Object.entries(load.request.headers)
      .filter(([name]) => name !== "host" && name !== "content-length")
      .flatMap(([name, value]) => ["-H", `${name}: ${value}`]);
    const stdout = await run(
      "taskset",
      [
        ...taskset,
        "h2load",
        "-t1",
        `-c${load.connections}`,
        "-m1",
        `-D${load.seconds}`,
        ...(load.request.body.length > 0 ? ["-d", bodyFile] : []),
        ...headerArgs,
        `--log-file=${logFile}`,
        `${load.baseUrl}${load.request.path}`,
      ],
      timeoutMs,
    );
    return parseH2loadOutput(stdout, readFileSync(logFile, "utf8"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
