import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/server/logger.js";
import { startGateway } from "../helpers/gateway-process.js";

const run = promisify(execFile);
const root = new URL("../..", import.meta.url).pathname;

/** inChild runs a module body in a fresh Node process (with tsx) and returns its stderr. */
async function inChild(code: string): Promise<string> {
  const { stderr } = await run(
    process.execPath,
    ["--import", "tsx", "--input-type=module", "-e", code],
    { cwd: root, timeout: 20_000 },
  );
  return stderr;
}

describe("createLogger", () => {
  it("writes JSON lines with time, level, message and fields; errors lose their stacks", () => {
    const lines: string[] = [];
    const log = createLogger((line) => lines.push(line));
    const cause = new TypeError("inner");
    log("warn", "something", { count: 2, cause: new Error("outer", { cause }) });
    expect(lines).toHaveLength(1);
    expect(lines[0]?.endsWith("\n")).toBe(true);
    const entry = JSON.parse(lines[0] as string) as Record<string, unknown>;
    expect(entry).toEqual({
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      level: "warn",
      message: "something",
      count: 2,
      cause: "Error: outer; caused by TypeError: inner",
    });
  });

  it("loses no line written just before process.exit (asynchronous destination)", async () => {
    const stderr = await inChild(`
      import { createLogger } from "./src/server/logger.ts";
      const log = createLogger({ pretty: false });
      for (let i = 0; i < 2000; i++) log("info", "line", { i });
      process.exit(0);
    `);
    const lines = stderr.trim().split("\n");
    expect(lines).toHaveLength(2000);
    expect(JSON.parse(lines[1999] as string)).toMatchObject({ message: "line", i: 1999 });
  });

  it("prints human-readable lines when asked (as on a TTY)", async () => {
    const stderr = await inChild(`
      import { createLogger } from "./src/server/logger.ts";
      createLogger({ pretty: true })("warn", "hello there", { reqId: "r1" });
    `);
    expect(stderr).toContain("hello there");
    expect(stderr).toContain("WARN");
    expect(() => JSON.parse(stderr.trim())).toThrow();
  });

  it("flushes the gateway's shutdown lines before it exits", async () => {
    const gw = await startGateway();
    expect(await gw.stop("SIGTERM")).toBe(0);
    // The exit event can come before the last stderr chunk is read.
    await expect.poll(() => gw.logLines.some((l) => l.includes('"shutting down"'))).toBe(true);
  });
});
