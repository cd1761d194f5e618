import { spawn } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync, realpathSync } from "node:fs";
import { parseVmRssBytes } from "./proc-stats.js";

/** ProcessTreeFacts describe the processes one command left running once it serves. */
export interface ProcessTreeFacts {
  command: string;
  /** Processes in the tree whose executable is this Node binary. */
  nodeProcesses: number;
  /** Whether the command itself (e.g. npm) is a Node process. */
  launcherIsNode: boolean;
  /** Sum of the tree's RSS. */
  rssBytes: number;
}

/** descendantsOf lists `root` and every process below it, from `ppid` pairs. */
export function descendantsOf(root: number, parents: ReadonlyMap<number, number>): number[] {
  const found = [root];
  for (let i = 0; i < found.length; i++) {
    for (const [pid, ppid] of parents) if (ppid === found[i]) found.push(pid);
  }
  return found;
}

function parentMap(): Map<number, number> {
  const parents = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      parents.set(Number(name), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // gone meanwhile
    }
  }
  return parents;
}

/**
 * measureProcessTree runs a command (e.g. the README's `npm start -- …`),
 * waits for the gateway's listening line on stderr, counts the Node processes
 * of its tree and their RSS, and then ends exactly those processes.
 */
export async function measureProcessTree(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<ProcessTreeFacts> {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ["ignore", "ignore", "pipe"],
  });
  const node = realpathSync(process.execPath);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${command} did not start in time`)), 60_000);
      let buffered = "";
      child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
        buffered += chunk;
        if (/"message":"listening"/.test(buffered)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`${command} exited with ${code}: ${buffered.slice(-500)}`));
      });
    });
    const tree = descendantsOf(child.pid as number, parentMap());
    let nodeProcesses = 0;
    let rssBytes = 0;
    let launcherIsNode = false;
    for (const pid of tree) {
      try {
        const isNode = readlinkSync(`/proc/${pid}/exe`) === node;
        if (isNode) nodeProcesses++;
        if (isNode && pid === child.pid) launcherIsNode = true;
        rssBytes += parseVmRssBytes(readFileSync(`/proc/${pid}/status`, "utf8"));
      } catch {
        // exited meanwhile
      }
    }
    return { command: [command, ...args].join(" "), nodeProcesses, launcherIsNode, rssBytes };
  } finally {
    const tree = descendantsOf(child.pid as number, parentMap());
    for (const pid of tree.reverse()) {
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        // already gone
      }
    }
    if (child.exitCode === null) await new Promise((r) => child.once("exit", r));
  }
}
