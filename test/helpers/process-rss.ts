import { readFileSync } from "node:fs";

/**
 * processRssBytes reads a process's resident set size (VmRSS) from /proc/<pid>/status
 * (Linux), in bytes, so a test can bound what a flood made a real server process hold.
 */
export function processRssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (match?.[1] === undefined) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}
