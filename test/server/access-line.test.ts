import { describe, expect, it, vi } from "vitest";
import {
  type AccessEntry,
  createAccessLog,
  createIsoClock,
  formatAccessLine,
} from "../../src/server/access-log.js";
import { createLogger, type Logger } from "../../src/server/logger.js";

const entry: AccessEntry = {
  reqId: "abc-1",
  remote: "127.0.0.1",
  protocol: "rest",
  rpc: "kms.admin.v1.KmsAdminService/GenerateDataKey",
  method: "POST",
  path: "/rustfs/admin/v3/kms/generate-data-key",
  status: 200,
  code: "ok",
  ms: 0.4,
  caller: "root",
};

/** withoutTime drops the one field two lines written at different instants differ in. */
function withoutTime(line: string): Record<string, unknown> {
  const { time, ...rest } = JSON.parse(line) as Record<string, unknown>;
  expect(typeof time).toBe("string");
  return rest;
}

describe("formatAccessLine", () => {
  it("writes exactly what the logger writes for the same entry, in the same key order", () => {
    const lines: string[] = [];
    createLogger((line) => lines.push(line))("info", "request", { ...entry });
    const mine = formatAccessLine("info", entry, new Date().toISOString());
    expect(mine.endsWith("}\n")).toBe(true);
    expect(withoutTime(mine)).toStrictEqual(withoutTime(lines[0] as string));
    expect(Object.keys(JSON.parse(mine) as object)).toStrictEqual(
      Object.keys(JSON.parse(lines[0] as string) as object),
    );
  });

  it("keeps hostile strings on one line and reads them back exactly", () => {
    const hostile = 'a"b\\c\nd\re\u0000f\u2028g\ud800h{"level":"error"}';
    const odd: AccessEntry = {
      ...entry,
      remote: null,
      rpc: null,
      path: hostile,
      method: hostile,
      caller: hostile,
      authError: hostile,
      aborted: true,
      timedOut: true,
      ms: Number.NaN,
    };
    const line = formatAccessLine("warn", odd, "2026-01-01T00:00:00.000Z");
    expect(line.indexOf("\n")).toBe(line.length - 1);
    expect(JSON.parse(line)).toStrictEqual({
      level: "warn",
      time: "2026-01-01T00:00:00.000Z",
      ...odd,
      ms: null,
      message: "request",
    });
  });
});

describe("createAccessLog with a logger that takes preformatted lines", () => {
  function collecting(): { log: Logger; writes: string[] } {
    const writes: string[] = [];
    const log: Logger = () => {
      throw new Error("the generic path must not be used when writeLine exists");
    };
    log.writeLine = (line) => writes.push(line);
    return { log, writes };
  }

  it("hands the lines of one event-loop turn over in one write", async () => {
    const { log, writes } = collecting();
    const access = createAccessLog({ log });
    access.write({ ...entry, reqId: "r1" });
    access.write({ ...entry, reqId: "r2" });
    access.write({ ...entry, reqId: "r3", status: 500, code: "internal" });
    expect(writes).toHaveLength(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toHaveLength(1);
    const lines = (writes[0] as string).split("\n");
    expect(lines.pop()).toBe("");
    expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toMatchObject([
      { reqId: "r1", level: "info" },
      { reqId: "r2", level: "info" },
      { reqId: "r3", level: "error" },
    ]);
    access.close();
  });

  it("writes what it holds on close, and at once past 64 KiB", () => {
    const { log, writes } = collecting();
    const access = createAccessLog({ log });
    access.write(entry);
    access.close();
    expect(writes).toHaveLength(1);
    const big = { ...entry, path: "p".repeat(256) };
    const perLine = formatAccessLine("info", big, new Date().toISOString()).length;
    for (let i = 0; i * perLine < 64 * 1024; i++) access.write(big);
    expect(writes).toHaveLength(2);
    expect((writes[1] as string).length).toBeGreaterThanOrEqual(64 * 1024);
    access.close();
  });

  it("still folds repeated auth failures into one line", async () => {
    const { log, writes } = collecting();
    const access = createAccessLog({ log });
    for (let i = 0; i < 5; i++) {
      access.write({ ...entry, status: 401, code: "unauthenticated", authError: "bad" });
    }
    await new Promise((resolve) => setImmediate(resolve));
    expect((writes.join("").match(/\n/g) ?? []).length).toBe(1);
  });
});

describe("createIsoClock", () => {
  it("gives exactly what Date#toISOString gives, across milliseconds, seconds and days", () => {
    const clock = createIsoClock();
    const base = Date.UTC(2026, 11, 31, 23, 59, 58, 990);
    const spy = vi.spyOn(Date, "now");
    try {
      for (const offset of [
        0,
        0,
        1,
        9,
        10,
        99,
        100,
        1009,
        1010,
        2009,
        2010,
        86_400_000,
        -base - 5,
      ]) {
        spy.mockReturnValue(base + offset);
        expect(clock.iso()).toBe(new Date(base + offset).toISOString());
      }
    } finally {
      spy.mockRestore();
    }
  });
});
