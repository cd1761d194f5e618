import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { createPreauthBudget } from "../../src/server/preauth-budget.js";
import { readBody } from "../../src/server/read-body.js";

/** fakeRequest is a readable body with the headers readBody looks at. */
function fakeRequest(headers: Record<string, string> = {}) {
  const stream = new PassThrough();
  return Object.assign(stream, { headers }) as unknown as Parameters<typeof readBody>[0] &
    PassThrough;
}

describe("createPreauthBudget", () => {
  it("grants up to its limit, refuses what does not fit, and takes back what is released", () => {
    const budget = createPreauthBudget(10);
    expect(budget.tryReserve(6)).toBe(true);
    expect(budget.tryReserve(5)).toBe(false);
    expect(budget.used).toBe(6);
    budget.release(6);
    expect(budget.tryReserve(10)).toBe(true);
    expect(() => createPreauthBudget(-1)).toThrow(RangeError);
  });
});

describe("readBody under a budget", () => {
  it("reserves a declared Content-Length before reading, and refuses at once when it cannot fit", async () => {
    const budget = createPreauthBudget(100);
    const req = fakeRequest({ "content-length": "150" });
    expect(await readBody(req, { limit: 1000, budget })).toEqual({
      complete: false,
      overBudget: true,
    });
    expect(budget.used).toBe(0);
  });

  it("keeps exactly the body's size reserved once read; the caller releases it", async () => {
    const budget = createPreauthBudget(100);
    const req = fakeRequest({ "content-length": "5" });
    const read = readBody(req, { budget });
    req.end("hello");
    expect(await read).toEqual({ complete: true, body: Buffer.from("hello") });
    expect(budget.used).toBe(5);
  });

  it("reserves a chunked body chunk by chunk, and gives it all back when it runs out", async () => {
    const budget = createPreauthBudget(8);
    const req = fakeRequest();
    const read = readBody(req, { budget });
    req.write("12345");
    req.write("67890");
    expect(await read).toEqual({ complete: false, overBudget: true });
    expect(budget.used).toBe(0);
  });

  it("gives the reservation back when the request goes away or the deadline aborts the read", async () => {
    const budget = createPreauthBudget(100);
    const gone = fakeRequest({ "content-length": "50" });
    const first = readBody(gone, { budget });
    gone.destroy();
    await expect(first).rejects.toThrow();
    const stalled = fakeRequest({ "content-length": "50" });
    const deadline = new AbortController();
    const second = readBody(stalled, { budget, signal: deadline.signal });
    deadline.abort(new Error("deadline"));
    await expect(second).rejects.toThrow("deadline");
    expect(budget.used).toBe(0);
  });
});
