import { readFileSync } from "node:fs";

/** CpuTicks are a process's user and system CPU time, in clock ticks (/proc/<pid>/stat). */
export interface CpuTicks {
  user: number;
  system: number;
}

/**
 * parseProcStat reads utime and stime (fields 14 and 15) from the text of
 * /proc/<pid>/stat. The command name (field 2) is in parentheses and may hold
 * spaces or parentheses itself, so fields are counted from its last `)`.
 */
export function parseProcStat(text: string): CpuTicks {
  const end = text.lastIndexOf(")");
  if (end < 0) throw new Error("not a /proc/<pid>/stat line");
  // After ") " come field 3 (state) onwards: utime is field 14, i.e. index 11 here.
  const fields = text
    .slice(end + 2)
    .trim()
    .split(/\s+/);
  const user = Number(fields[11]);
  const system = Number(fields[12]);
  if (!Number.isInteger(user) || !Number.isInteger(system)) {
    throw new Error("not a /proc/<pid>/stat line");
  }
  return { user, system };
}

/** parseVmRssBytes reads the resident set size from the text of /proc/<pid>/status. */
export function parseVmRssBytes(text: string): number {
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(text);
  if (match === null) throw new Error("no VmRSS line in /proc/<pid>/status");
  return Number(match[1]) * 1024;
}

let ticksPerSecond: number | undefined;

/** AT_CLKTCK is the auxiliary-vector entry holding the kernel's USER_HZ. */
const AT_CLKTCK = 17n;

/**
 * clockTicksPerSecond is the kernel's USER_HZ, the unit of /proc/<pid>/stat's CPU times
 * (what `getconf CLK_TCK` prints, nearly always 100). It is read from this process's
 * auxiliary vector (/proc/self/auxv: pairs of 64-bit words on 64-bit Linux), so no
 * system tool is needed; 100 when that cannot be read.
 */
export function clockTicksPerSecond(): number {
  ticksPerSecond ??= readClockTicks() ?? 100;
  return ticksPerSecond;
}

function readClockTicks(): number | undefined {
  try {
    const auxv = readFileSync("/proc/self/auxv");
    for (let at = 0; at + 16 <= auxv.length; at += 16) {
      if (auxv.readBigUInt64LE(at) === AT_CLKTCK) {
        const value = Number(auxv.readBigUInt64LE(at + 8));
        return value > 0 ? value : undefined;
      }
    }
  } catch {
    // Not Linux, or no /proc: fall back to the usual value.
  }
  return undefined;
}

/** readCpuTicks reads a live process's CPU ticks. */
export function readCpuTicks(pid: number): CpuTicks {
  return parseProcStat(readFileSync(`/proc/${pid}/stat`, "utf8"));
}

/** readRssBytes reads a live process's resident set size. */
export function readRssBytes(pid: number): number {
  return parseVmRssBytes(readFileSync(`/proc/${pid}/status`, "utf8"));
}

/**
 * cpuMicrosPerRequest is the server's user + system CPU between two readings,
 * divided by the requests completed in between; null when there were none.
 */
export function cpuMicrosPerRequest(
  before: CpuTicks,
  after: CpuTicks,
  requests: number,
  ticksPerSec: number,
): number | null {
  if (requests <= 0) return null;
  const ticks = after.user + after.system - (before.user + before.system);
  return (ticks * 1e6) / ticksPerSec / requests;
}

/** RssSampler records a process's peak RSS while it runs. */
export interface RssSampler {
  /** stop ends the sampling and returns the highest RSS seen, in bytes. */
  stop(): number;
}

/**
 * createRssSampler reads the RSS of `pid` every `intervalMs` until stopped.
 * A process that has gone away simply stops contributing samples.
 */
export function createRssSampler(pid: number, intervalMs = 200): RssSampler {
  let peak = 0;
  const sample = () => {
    try {
      peak = Math.max(peak, readRssBytes(pid));
    } catch {
      // the process exited; keep the peak seen so far
    }
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}
