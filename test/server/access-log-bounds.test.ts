import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type AccessEntry, createAccessLog } from "../../src/server/access-log.js";

const entry = (overrides: Partial<AccessEntry> = {}): AccessEntry => ({
  reqId: "r",
  remote: "127.0.0.1",
  protocol: "rest",
  rpc: null,
  method: "GET",
  path: "/p",
  status: 200,
  code: "ok",
  ms: 1,
  caller: null,
  ...overrides,
});

describe("createAccessLog", () => {
  const lines: Array<[string, string, Record<string, unknown> | undefined]> = [];
  beforeEach(() => {
    vi.useFakeTimers();
    lines.length = 0;
  });
  afterEach(() => vi.useRealTimers());
  const log = (level: string, message: string, fields?: Record<string, unknown>) =>
    lines.push([level, message, fields]);

  it("picks the level: aborts info, server faults error, auth failures warn", () => {
    const access = createAccessLog({ log });
    access.write(entry({ status: 499, code: "canceled", aborted: true }));
    access.write(entry({ status: 200, code: "internal" }));
    access.write(entry({ status: 500, code: "internal", aborted: true }));
    access.write(entry({ status: 503, code: "unavailable" }));
    access.write(entry({ status: 401, code: "unauthenticated", authError: "x" }));
    expect(lines.map(([level]) => level)).toEqual(["info", "error", "info", "info", "warn"]);
  });

  it("tracks a bounded number of distinct failures; the rest share one summary", () => {
    const access = createAccessLog({ log, maxAuthFailureKeys: 3, authFailureWindowMs: 1000 });
    for (let i = 0; i < 10; i++) {
      access.write(entry({ status: 401, authError: "bad", remote: `10.0.0.${i}` }));
    }
    // Three distinct keys, then the overflow slot's first line; the other six are folded.
    expect(lines.filter(([, message]) => message === "request")).toHaveLength(4);
    vi.advanceTimersByTime(1000);
    const summaries = lines.filter(
      ([, message]) => message === "repeated auth failures suppressed",
    );
    expect(summaries).toHaveLength(1);
    expect(summaries[0]?.[2]).toMatchObject({ suppressed: 6, authError: "*", remote: null });
  });

  it("starts a fresh window after each summary and flushes on close", () => {
    const access = createAccessLog({ log, authFailureWindowMs: 1000 });
    for (let i = 0; i < 3; i++) access.write(entry({ status: 401, authError: "bad" }));
    vi.advanceTimersByTime(1000);
    for (let i = 0; i < 2; i++) access.write(entry({ status: 401, authError: "bad" }));
    access.close();
    const summaries = lines
      .filter(([, message]) => message === "repeated auth failures suppressed")
      .map(([, , fields]) => fields?.suppressed);
    expect(summaries).toEqual([2, 1]);
    expect(lines.filter(([, message]) => message === "request")).toHaveLength(2);
  });
});
