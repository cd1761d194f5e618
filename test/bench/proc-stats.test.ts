import { describe, expect, it } from "vitest";
import {
  clockTicksPerSecond,
  cpuMicrosPerRequest,
  createRssSampler,
  parseProcStat,
  parseVmRssBytes,
  readCpuTicks,
  readRssBytes,
} from "../../bench/proc-stats.js";
import { descendantsOf } from "../../bench/process-tree.js";

describe("parseProcStat", () => {
  it("reads utime and stime after a command name holding spaces and parentheses", () => {
    const line =
      "4242 (node (x) y) S 1 4242 4242 0 -1 4194560 1000 0 0 0 1234 567 0 0 20 0 11 0 100 1000000 5000 18446744073709551615\n";
    expect(parseProcStat(line)).toEqual({ user: 1234, system: 567 });
  });

  it("throws on text that is not a stat line", () => {
    expect(() => parseProcStat("garbage")).toThrow();
    expect(() => parseProcStat("1 (x) S 1")).toThrow();
  });
});

describe("parseVmRssBytes", () => {
  it("reads VmRSS in kB as bytes", () => {
    expect(parseVmRssBytes("Name:\tnode\nVmHWM:\t  90000 kB\nVmRSS:\t   81920 kB\n")).toBe(
      81920 * 1024,
    );
  });

  it("throws when there is no VmRSS line", () => {
    expect(() => parseVmRssBytes("Name:\tkthreadd\n")).toThrow(/VmRSS/);
  });
});

describe("cpuMicrosPerRequest", () => {
  it("divides user + system ticks by the requests", () => {
    expect(
      cpuMicrosPerRequest({ user: 100, system: 50 }, { user: 300, system: 100 }, 10_000, 100),
    ).toBe(250); // 250 ticks = 2.5 s over 10,000 requests
  });

  it("is null without requests", () => {
    expect(cpuMicrosPerRequest({ user: 0, system: 0 }, { user: 5, system: 0 }, 0, 100)).toBeNull();
  });
});

describe("reading /proc for a live process", () => {
  it("sees this process's CPU time grow under work and its RSS", async () => {
    const before = readCpuTicks(process.pid);
    // Burn 200 ms of this process's CPU time (not of wall time: on a busy machine the
    // process may get a fraction of a core), as Node itself counts it.
    const start = process.cpuUsage();
    let burnt = 0;
    let x = 0;
    while (burnt < 200_000) {
      for (let i = 0; i < 10_000; i++) x += Math.sqrt(x + 1);
      const used = process.cpuUsage(start);
      burnt = used.user + used.system;
    }
    const after = readCpuTicks(process.pid);
    expect(after.user + after.system).toBeGreaterThan(before.user + before.system);
    // USER_HZ from the auxiliary vector turns ticks into seconds; /proc must agree with
    // Node's own count to within its 10 ms ticks (other threads may add a little).
    const seconds =
      (after.user + after.system - before.user - before.system) / clockTicksPerSecond();
    expect(seconds).toBeGreaterThan(burnt / 1e6 - 0.03);
    expect(seconds).toBeLessThan(burnt / 1e6 + 1);
    const rss = readRssBytes(process.pid);
    expect(rss).toBeGreaterThan(1024 * 1024);
    const sampler = createRssSampler(process.pid, 10);
    await new Promise((r) => setTimeout(r, 30));
    expect(sampler.stop()).toBeGreaterThan(1024 * 1024);
  });
});

describe("descendantsOf", () => {
  it("walks the whole tree below a pid and nothing beside it", () => {
    const parents = new Map([
      [10, 1],
      [11, 10],
      [12, 11],
      [13, 10],
      [20, 1],
    ]);
    expect(descendantsOf(10, parents).sort()).toEqual([10, 11, 12, 13]);
  });
});
