import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  gatewayArgs,
  gatewayEnv,
  newDataDir,
  waitForListening,
} from "../helpers/gateway-process.js";

// The README's run command is `npm start`; a supervisor or a container whose
// command it is signals the npm process, not the gateway. These tests start
// exactly that command (flags passed through npm, as the README shows) and
// signal the npm process itself: the signal must reach the gateway, which
// drains and exits 0, and nothing may be left holding the port.

const root = new URL("../..", import.meta.url).pathname;
/** The prestart build (tsc) runs first; on a busy 2-core machine it can take a while. */
const startTimeoutMs = 150_000;
const started: number[] = [];

/** childrenOf maps each process id to its children, read from /proc (Linux). */
function childrenOf(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // exited while we looked
    }
    // The command name in parentheses may hold spaces: fields start after the last ")".
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
  }
  return children;
}

/** descendants lists every process below `pid`, depth first, with its argv. */
function descendants(pid: number): { pid: number; argv: string[] }[] {
  const children = childrenOf();
  const out: { pid: number; argv: string[] }[] = [];
  const walk = (parent: number) => {
    for (const child of children.get(parent) ?? []) {
      let argv: string[] = [];
      try {
        argv = readFileSync(`/proc/${child}/cmdline`, "utf8").split("\0").filter(Boolean);
      } catch {
        // exited while we looked
      }
      out.push({ pid: child, argv });
      walk(child);
    }
  };
  walk(pid);
  return out;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

/** portIsFree binds the port itself: the only proof that nobody holds it any more. */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** startNpm runs the README's command and resolves once the gateway logs "listening". */
async function startNpm(
  dataDir: string,
): Promise<{ npm: ChildProcess; url: string; log: string[] }> {
  const npm = spawn("npm", ["start", "--", ...gatewayArgs(dataDir)], {
    cwd: root,
    env: gatewayEnv(),
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (npm.pid !== undefined) started.push(npm.pid);
  const log: string[] = [];
  let output = "";
  npm.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    output += chunk;
  });
  const url = await waitForListening(npm, log, {
    what: "npm start",
    timeoutMs: startTimeoutMs - 10_000,
    extra: () => output,
  });
  return { npm, url, log };
}

afterEach(() => {
  // A failed run must not leave a gateway holding a port: end what this file started.
  for (const pid of started.splice(0)) {
    for (const { pid: child } of descendants(pid).reverse()) {
      if (isAlive(child)) process.kill(child, "SIGKILL");
    }
    if (isAlive(pid)) process.kill(pid, "SIGKILL");
  }
});

describe("npm start, signalled as a supervisor would", () => {
  it.each(["SIGTERM", "SIGINT"] as const)(
    "delivers %s to the gateway, which drains and exits 0",
    async (signal) => {
      const { npm, url, log } = await startNpm(newDataDir());
      const npmPid = npm.pid ?? -1;
      const port = Number(new URL(url).port);

      // npm runs the gateway itself: one node process under npm, no shell,
      // no tsx and no second node in between to swallow the signal.
      // (node's own options, such as the start script's --max-semi-space-size, may come first.)
      const tree = descendants(npmPid);
      expect(tree.map((p) => p.argv.filter((a) => !a.startsWith("--")).slice(0, 2))).toEqual([
        [expect.stringMatching(/(^|\/)node$/), "dist/src/cli.js"],
      ]);
      const gatewayPid = tree[0]?.pid ?? -1;
      expect((await fetch(`${url}/health`)).status).toBe(200);

      const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
        npm.once("exit", (code, sig) => resolve({ code, signal: sig })),
      );
      process.kill(npmPid, signal);
      expect(await exited).toEqual({ code: 0, signal: null });

      expect(isAlive(gatewayPid)).toBe(false);
      expect(await portIsFree(port)).toBe(true);
      const messages = log.flatMap((line) => {
        try {
          return [JSON.parse(line) as { message?: string; signal?: string }];
        } catch {
          return [];
        }
      });
      expect(messages).toContainEqual(
        expect.objectContaining({ message: "shutting down", signal }),
      );
    },
    startTimeoutMs,
  );
});
