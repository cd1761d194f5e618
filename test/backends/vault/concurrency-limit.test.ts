import { describe, expect, it } from "vitest";
import { createConcurrencyLimit } from "../../../src/backends/vault/concurrency-limit.js";

describe("createConcurrencyLimit", () => {
  it("hands a freed slot to the first waiter, not to a newcomer in the same turn", async () => {
    const limit = createConcurrencyLimit(1, 10);
    let running = 0;
    let peak = 0;
    const job = async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setImmediate(r));
      running--;
    };
    let finishFirst: () => void = () => {};
    const gate = new Promise<void>((r) => (finishFirst = r));
    // run() awaits the gate itself, so its continuation (which releases the slot) is the
    // gate's first callback.
    const first = limit.run(() => gate);
    const waiter = limit.run(job);
    // The gate's second callback runs right after the slot is released and before the
    // waiter resumes: the window in which a newcomer could take the slot.
    const newcomer = gate.then(() => limit.run(job));
    finishFirst();
    await Promise.all([first, waiter, newcomer]);
    expect(peak).toBe(1);
    expect(limit.inFlight()).toBe(0);
    expect(limit.waiting()).toBe(0);
  });

  it("refuses at once beyond maxInFlight + maxWaiting, and frees the slot of a failed call", async () => {
    const limit = createConcurrencyLimit(1, 1);
    let release: () => void = () => {};
    const first = limit.run(() => new Promise<void>((r) => (release = r)));
    const second = limit.run(async () => "second");
    expect(await limit.run(async () => "third")).toBeNull();
    release();
    await first;
    expect(await second).toEqual({ value: "second" });
    await expect(limit.run(async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await limit.run(async () => "after")).toEqual({ value: "after" });
  });
});
