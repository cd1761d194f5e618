import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { readBody } from "../../src/server/read-body.js";
import { createStopSource } from "../../src/server/stop-signal.js";

describe("createStopSource", () => {
  it("calls each listener once with the reason set, and never again", () => {
    const source = createStopSource();
    const heard: unknown[] = [];
    const first = () => heard.push(["first", source.signal.reason]);
    const removed = () => heard.push("removed");
    source.signal.addEventListener("abort", first, { once: true });
    source.signal.addEventListener("abort", removed);
    source.signal.removeEventListener("abort", removed);
    expect(source.signal.aborted).toBe(false);
    const reason = new Error("deadline");
    source.stop(reason);
    source.stop(new Error("again"));
    expect(source.signal.aborted).toBe(true);
    expect(source.signal.reason).toBe(reason);
    expect(heard).toStrictEqual([["first", reason]]);
    source.signal.addEventListener("abort", () => heard.push("late"));
    expect(heard).toHaveLength(1);
  });

  it("stops a body read in progress, which rejects with the reason", async () => {
    const source = createStopSource();
    const req = new PassThrough() as unknown as Parameters<typeof readBody>[0];
    (req as unknown as { headers: object }).headers = {};
    const read = readBody(req, { signal: source.signal });
    (req as unknown as PassThrough).write("partial");
    source.stop(new Error("request body deadline exceeded"));
    await expect(read).rejects.toThrow("request body deadline exceeded");
  });
});
