import { describe, expect, it } from "vitest";
import { loopCpuUsPerOp } from "../../bench/micro/run-micro.js";

describe("loopCpuUsPerOp", () => {
  it("runs a synchronous piece many times and returns a CPU figure per call", async () => {
    let calls = 0;
    const perCall = await loopCpuUsPerOp(() => {
      calls++;
    }, 50);
    expect(calls).toBeGreaterThan(100);
    expect(Number.isFinite(perCall)).toBe(true);
    expect(perCall).toBeGreaterThanOrEqual(0);
  });

  it("awaits an asynchronous piece before the next call, so calls never overlap", async () => {
    let running = 0;
    let most = 0;
    let calls = 0;
    await loopCpuUsPerOp(async () => {
      running++;
      most = Math.max(most, running);
      calls++;
      await new Promise((resolve) => setImmediate(resolve));
      running--;
    }, 50);
    expect(calls).toBeGreaterThan(1);
    expect(most).toBe(1);
  });
});
