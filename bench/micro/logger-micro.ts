import { closeSync, openSync, writeSync } from "node:fs";
import { createLogger } from "../../src/server/logger.js";
import type { MicroBench } from "./micro-bench.js";

/**
 * loggerMicro times one access-log line as the edge writes it: formatted
 * only (what the event loop pays when writes are batched and asynchronous;
 * the issue's ≤ 1 µs target), and formatted and written synchronously to
 * /dev/null (what it pays today, when stderr is a file or a pipe).
 */
export async function loggerMicro(): Promise<MicroBench[]> {
  const fd = openSync("/dev/null", "w");
  const fields = {
    method: "POST",
    path: "/rustfs/admin/v3/kms/generate-data-key",
    status: 200,
    ms: 0.4,
    caller: "root",
  };
  const formatOnly = createLogger(() => {});
  const written = createLogger((line) => {
    writeSync(fd, line);
  });
  return [
    {
      name: "access log line (format only)",
      targetUs: 1,
      fn: () => formatOnly("info", "request", fields),
    },
    {
      name: "access log line (format + sync write to /dev/null)",
      fn: () => written("info", "request", fields),
      teardown: async () => closeSync(fd),
    },
  ];
}
