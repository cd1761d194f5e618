import { closeSync, openSync, writeSync } from "node:fs";
import { type AccessEntry, createAccessLog } from "../../src/server/access-log.js";
import { createLogger } from "../../src/server/logger.js";
import type { MicroBench } from "./micro-bench.js";

/**
 * loggerMicro times one access-log line as the edge writes it, through
 * createAccessLog and a logger that takes preformatted lines: formatted and
 * batched only (what the event loop pays per request; the issue's ≤ 1 µs
 * target, the batch's one asynchronous write per turn left out), and the old
 * way for comparison, through the generic logger (pino) with every line
 * written synchronously to /dev/null.
 */
export async function loggerMicro(): Promise<MicroBench[]> {
  const fd = openSync("/dev/null", "w");
  const entry: AccessEntry = {
    reqId: "Xq3b7n0KcVn1lYwz",
    remote: "127.0.0.1",
    protocol: "rest",
    rpc: "kms.admin.v1.KmsAdminService/GenerateDataKey",
    method: "POST",
    path: "/rustfs/admin/v3/kms/generate-data-key",
    status: 200,
    code: "ok",
    ms: 0.4,
    caller: "bench-admin",
  };
  let lastWrite = "";
  const batched = createLogger(() => {});
  batched.writeLine = (lines) => {
    lastWrite = lines;
  };
  const access = createAccessLog({ log: batched });
  access.write(entry);
  access.close(); // writes the held line at once: check it before timing
  const line = JSON.parse(lastWrite) as Record<string, unknown>;
  if (line.reqId !== entry.reqId || line.message !== "request") {
    throw new Error("logger micro-benchmark: the access line is wrong");
  }
  const generic = createLogger((line) => {
    writeSync(fd, line);
  });
  return [
    {
      name: "access log line (format + batch)",
      targetUs: 1,
      fn: () => access.write(entry),
      teardown: async () => access.close(),
    },
    {
      name: "access log line via pino (format + sync write to /dev/null)",
      fn: () => generic("info", "request", { ...entry }),
      teardown: async () => closeSync(fd),
    },
  ];
}
