import { readFileSync } from "node:fs";

/**
 * processRssBytes reads a process's resident set size (VmRSS) from /proc/<pid>/status,
 * so a test can bound what a flood made a real server process hold.
 */
export function processRssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (match === null) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}
