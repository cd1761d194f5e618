import { describe, expect, it } from "vitest";
import { areaOf, shortenUrl, summarizeCpuProfile } from "../../bench/summarize-cpu-profile.js";

const frame = (functionName: string, url = "", lineNumber = 0) => ({
  functionName,
  url,
  lineNumber,
});

describe("summarizeCpuProfile", () => {
  it("adds self time per function across call sites, from the sample deltas", () => {
    const profile = {
      startTime: 0,
      endTime: 1000,
      nodes: [
        { id: 1, callFrame: frame("(root)") },
        { id: 2, callFrame: frame("verifySigV4", "file:///w/src/auth/verify-sigv4.ts", 79) },
        { id: 3, callFrame: frame("verifySigV4", "file:///w/src/auth/verify-sigv4.ts", 79) },
        { id: 4, callFrame: frame("(garbage collector)") },
        {
          id: 5,
          callFrame: frame("", "file:///w/node_modules/@connectrpc/connect/dist/esm/x.js", 9),
        },
      ],
      // Each sample lasts until the next one: 2 → 100 µs, 3 → 200, 4 → 300, 5 → 400; the last has none.
      samples: [2, 3, 4, 5, 2],
      timeDeltas: [0, 100, 200, 300, 400],
    };
    const top = summarizeCpuProfile(profile, 3).top.map((t) => [
      t.functionName,
      t.location,
      Math.round(t.selfMs * 1000),
      Math.round(t.percent),
    ]);
    expect(top).toEqual([
      ["(anonymous)", "@connectrpc/connect/dist/esm/x.js:10", 400, 40],
      ["verifySigV4", "src/auth/verify-sigv4.ts:80", 300, 30],
      ["(garbage collector)", "", 300, 30],
    ]);
  });

  it("leaves (idle) and the samples before fromUs out", () => {
    const profile = {
      startTime: 0,
      endTime: 1000,
      nodes: [
        { id: 1, callFrame: frame("(idle)") },
        { id: 2, callFrame: frame("startUp", "file:///w/src/cli.ts", 10) },
        { id: 3, callFrame: frame("serve", "file:///w/src/server/edge.ts", 20) },
      ],
      // at 0 µs startUp (100 µs), at 100 serve (50), at 150 idle (50), at 200 serve (till 250).
      samples: [2, 3, 1, 3, 3],
      timeDeltas: [0, 100, 50, 50, 50],
    };
    const summary = summarizeCpuProfile(profile, 5, { fromUs: 100 });
    expect(
      summary.top.map((t) => [t.functionName, Math.round(t.selfMs * 1000), Math.round(t.percent)]),
    ).toEqual([["serve", 100, 100]]);
    expect(Math.round(summary.busyMs * 1000)).toBe(100);
    expect(Math.round(summary.idleMs * 1000)).toBe(50);
  });

  it("falls back to hit counts when the profile has no samples", () => {
    const { top } = summarizeCpuProfile({
      startTime: 0,
      endTime: 4000,
      nodes: [
        { id: 1, callFrame: frame("a", "file:///w/dist/src/a.js", 0), hitCount: 3 },
        { id: 2, callFrame: frame("b", "file:///w/src/b.ts", 0), hitCount: 1 },
      ],
    });
    expect(top.map((t) => [t.functionName, t.location, t.selfMs, t.percent])).toEqual([
      ["a", "dist/src/a.js", 3, 75],
      ["b", "src/b.ts", 1, 25],
    ]);
  });
});

describe("inclusive time and areas", () => {
  it("charges each sample to every function on its stack once, and self time to its area", () => {
    const profile = {
      startTime: 0,
      endTime: 1000,
      nodes: [
        { id: 1, callFrame: frame("(root)"), children: [2] },
        {
          id: 2,
          callFrame: frame("route", "file:///w/dist/src/server/edge.js", 40),
          children: [3, 5],
        },
        {
          id: 3,
          callFrame: frame("verifySigV4", "file:///w/dist/src/auth/verify-sigv4.js", 38),
          children: [4],
        },
        { id: 4, callFrame: frame("Hmac", "node:internal/crypto/hash", 160), children: [] },
        { id: 5, callFrame: frame("route", "file:///w/dist/src/server/edge.js", 40), children: [] },
      ],
      // Hmac under verifySigV4 under route: 300 µs; route calling itself: 100 µs.
      samples: [4, 5, 1],
      timeDeltas: [0, 300, 100],
    };
    const summary = summarizeCpuProfile(profile, 10);
    expect(summary.inclusive.map((t) => [t.functionName, Math.round(t.selfMs * 1000)])).toEqual([
      ["route", 400],
      ["verifySigV4", 300],
    ]);
    expect(summary.areas.map((a) => [a.area, Math.round(a.selfMs * 1000)])).toEqual([
      ["node:internal/crypto", 300],
      ["src/server", 100],
    ]);
  });

  it("names areas by project folder, package, node module or V8 category", () => {
    expect(areaOf({ functionName: "f", location: "dist/src/rest/json-writer.js:3" })).toBe(
      "src/rest",
    );
    expect(areaOf({ functionName: "f", location: "@connectrpc/connect/dist/esm/x.js:1" })).toBe(
      "@connectrpc/connect",
    );
    expect(areaOf({ functionName: "f", location: "pino/lib/tools.js" })).toBe("pino");
    expect(areaOf({ functionName: "emit", location: "node:events:471" })).toBe("node:events");
    expect(areaOf({ functionName: "(garbage collector)", location: "" })).toBe(
      "(garbage collector)",
    );
    expect(areaOf({ functionName: "writev", location: "" })).toBe("(native)");
  });
});

describe("shortenUrl", () => {
  it("keeps the package path under node_modules and the project path from src/ or gen/", () => {
    expect(shortenUrl("file:///a/node_modules/.pnpm/x/node_modules/pino/lib/tools.js")).toBe(
      "pino/lib/tools.js",
    );
    expect(shortenUrl("file:///work/wt/gen/kms/admin/v1/service_pb.ts")).toBe(
      "gen/kms/admin/v1/service_pb.ts",
    );
    expect(shortenUrl("node:internal/http")).toBe("node:internal/http");
  });
});
