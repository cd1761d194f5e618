import { describe, expect, it } from "vitest";
import { createSingleFlight } from "../../src/engine/single-flight.js";

describe("createSingleFlight", () => {
  it("shares one call among concurrent callers of a key, and forgets it once settled", async () => {
    const flights = createSingleFlight<number>();
    let started = 0;
    let release: (value: number) => void = () => {};
    const work = () => {
      started++;
      return new Promise<number>((resolve) => {
        release = resolve;
      });
    };
    const callers = Array.from({ length: 16 }, () => flights.run("k", work));
    expect(started).toBe(1);
    expect(flights.inFlight()).toBe(1);
    release(42);
    expect(await Promise.all(callers)).toEqual(Array(16).fill(42));
    expect(flights.inFlight()).toBe(0);
    // Settled: the next call starts afresh.
    const next = flights.run("k", work);
    expect(started).toBe(2);
    release(7);
    expect(await next).toBe(7);
  });

  it("runs different keys independently and shares a rejection, then forgets it", async () => {
    const flights = createSingleFlight<string>();
    let calls = 0;
    const failing = async () => {
      calls++;
      throw new Error("backend down");
    };
    const a = flights.run("a", failing);
    const b = flights.run("a", failing);
    const other = flights.run("b", async () => "fine");
    await expect(a).rejects.toThrow("backend down");
    await expect(b).rejects.toThrow("backend down");
    expect(await other).toBe("fine");
    expect(calls).toBe(1);
    expect(flights.inFlight()).toBe(0);
    await expect(flights.run("a", failing)).rejects.toThrow("backend down");
    expect(calls).toBe(2);
  });
});
