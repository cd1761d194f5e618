import { describe, expect, it } from "vitest";
import { parseBenchOptions } from "../../bench/bench-options.js";

describe("parseBenchOptions", () => {
  it("defaults to 10 s × 3 runs at 64 connections, server on core 0, load on core 1", () => {
    expect(parseBenchOptions([], {})).toMatchObject({
      durationSeconds: 10,
      warmupSeconds: 3,
      runs: 3,
      connections: 64,
      smallKeyCount: 1000,
      largeKeyCount: 100_000,
      serverCore: 0,
      loadCore: 1,
      micro: false,
      profile: false,
      only: [],
    });
  });

  it("--quick shortens what the environment does not set", () => {
    const options = parseBenchOptions(["--quick"], { BENCH_RUNS: "2" });
    expect(options).toMatchObject({
      durationSeconds: 2,
      warmupSeconds: 1,
      runs: 2,
      largeKeyCount: 10_000,
    });
  });

  it("reads durations with units, rounding up to whole seconds", () => {
    expect(parseBenchOptions([], { BENCH_DURATION: "1.5s" }).durationSeconds).toBe(2);
    expect(parseBenchOptions([], { BENCH_DURATION: "2m" }).durationSeconds).toBe(120);
    expect(parseBenchOptions([], { BENCH_DURATION: "7" }).durationSeconds).toBe(7);
  });

  it("takes --only as a list, in both spellings, and --micro / --profile", () => {
    expect(parseBenchOptions(["--only", "REST,gRPC", "--only=list"], {}).only).toEqual([
      "REST",
      "gRPC",
      "list",
    ]);
    expect(parseBenchOptions(["--micro", "--profile"], {})).toMatchObject({
      micro: true,
      profile: true,
    });
  });

  it("refuses bad values and unknown flags with a message naming them", () => {
    expect(() => parseBenchOptions([], { BENCH_DURATION: "ten" })).toThrow(/BENCH_DURATION/);
    expect(() => parseBenchOptions([], { BENCH_RUNS: "0" })).toThrow(/BENCH_RUNS/);
    expect(() => parseBenchOptions([], { BENCH_CONNECTIONS: "-3" })).toThrow(/BENCH_CONNECTIONS/);
    expect(() => parseBenchOptions(["--fast"], {})).toThrow(/--fast/);
    expect(() => parseBenchOptions(["--only"], {})).toThrow(/--only/);
  });

  it("refuses a scenario longer than its one signature stays valid", () => {
    expect(() => parseBenchOptions([], { BENCH_DURATION: "5m", BENCH_RUNS: "3" })).toThrow(
      /15 minutes/,
    );
    expect(parseBenchOptions([], { BENCH_DURATION: "4m", BENCH_RUNS: "3" }).durationSeconds).toBe(
      240,
    );
  });
});
