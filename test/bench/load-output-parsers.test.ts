import { describe, expect, it } from "vitest";
import { parseH2loadOutput } from "../../bench/parse-h2load-output.js";
import { parseWrkResult } from "../../bench/parse-wrk-result.js";
import { percentile } from "../../bench/percentile.js";
import { medianRun } from "../../bench/run-scenario.js";
import { luaString, WRK_RESULT_MARKER, wrkScript } from "../../bench/wrk-script.js";

const wrkStdout = `Running 2s test @ http://127.0.0.1:9000/x
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.20ms  300.00us   9.00ms   90.00%
  20000 requests in 2.00s, 5.00MB read
${WRK_RESULT_MARKER}{"requests":20000,"durationUs":2000000,"connect":0,"read":1,"write":2,"status":3,"timeout":4,"p50":1100,"p99":2500,"p999":8000}
Requests/sec:  10000.00
`;

describe("parseWrkResult", () => {
  it("reads the done() line: rate from requests and duration, errors summed", () => {
    expect(parseWrkResult(wrkStdout)).toEqual({
      requests: 20000,
      seconds: 2,
      requestsPerSecond: 10000,
      p50Us: 1100,
      p99Us: 2500,
      p999Us: 8000,
      errors: 10,
    });
  });

  it("throws when wrk printed no result line", () => {
    expect(() => parseWrkResult("unable to connect to 127.0.0.1:1 Connection refused")).toThrow(
      /no result line/,
    );
  });

  it("throws when a field is missing rather than inventing a zero", () => {
    expect(() => parseWrkResult(`${WRK_RESULT_MARKER}{"requests":1}`)).toThrow(/durationUs/);
  });
});

const h2loadStdout = `starting benchmark...
finished in 2.00s, 1500.00 req/s, 300.00KB/s
requests: 3000 total, 3064 started, 3000 done, 2990 succeeded, 10 failed, 7 errored, 3 timeout
status codes: 2988 2xx, 0 3xx, 1 4xx, 1 5xx
traffic: 600.00KB (614400) total
`;

describe("parseH2loadOutput", () => {
  it("takes counts from the summary and percentiles from the log's successful rows", () => {
    const log = [
      ...Array.from({ length: 1000 }, (_, i) => `1700000000000000\t200\t${i + 1}`),
      "1700000000000000\t-1\t999999",
    ].join("\n");
    expect(parseH2loadOutput(h2loadStdout, `${log}\n`)).toEqual({
      requests: 3000,
      seconds: 2,
      requestsPerSecond: 1500,
      p50Us: 500,
      p99Us: 990,
      p999Us: 999,
      errors: 12, // 10 failed (errored and timeouts included) + one 4xx + one 5xx
    });
  });

  it("reads a window given in milliseconds", () => {
    const short = h2loadStdout.replace("finished in 2.00s", "finished in 500.00ms");
    expect(parseH2loadOutput(short, "").seconds).toBe(0.5);
  });

  it("throws when h2load printed no summary", () => {
    expect(() => parseH2loadOutput("connect error", "")).toThrow(/no summary/);
  });
});

describe("percentile and medianRun", () => {
  it("uses the nearest rank", () => {
    const sorted = [10, 20, 30, 40];
    expect(percentile(sorted, 50)).toBe(20);
    expect(percentile(sorted, 99)).toBe(40);
    expect(percentile(sorted, 0)).toBe(10);
    expect(percentile([], 50)).toBe(0);
  });

  it("picks the run with the median rate, the lower middle for an even count", () => {
    const runs = [3, 1, 2].map((requestsPerSecond) => ({ requestsPerSecond }));
    expect(medianRun(runs)?.requestsPerSecond).toBe(2);
    expect(medianRun([{ requestsPerSecond: 5 }, { requestsPerSecond: 1 }])?.requestsPerSecond).toBe(
      1,
    );
    expect(medianRun([])).toBeNull();
  });
});

describe("wrkScript", () => {
  it("escapes quotes, backslashes and non-ASCII bytes as decimal escapes", () => {
    expect(luaString('a"b\\c')).toBe('"a\\034b\\092c"');
    expect(luaString("é\n")).toBe('"\\195\\169\\010"');
  });

  it("sets method, path, body and every header but Content-Length, with wrk's own Host key", () => {
    const script = wrkScript({
      method: "POST",
      path: "/p?q=1",
      headers: { host: "127.0.0.1:9", "content-length": "2", authorization: "AWS4 x" },
      body: new TextEncoder().encode("{}"),
    });
    expect(script).toContain('wrk.method = "POST"');
    expect(script).toContain('wrk.path = "/p?q=1"');
    expect(script).toContain('wrk.body = "{}"');
    expect(script).toContain('wrk.headers["Host"] = "127.0.0.1:9"');
    expect(script).toContain('wrk.headers["authorization"] = "AWS4 x"');
    expect(script).not.toMatch(/content-length/i);
    expect(script).toContain(WRK_RESULT_MARKER);
  });

  it("sends no body for an empty one", () => {
    const script = wrkScript({ method: "GET", path: "/", headers: {}, body: new Uint8Array(0) });
    expect(script).toContain("wrk.body = nil");
  });
});
