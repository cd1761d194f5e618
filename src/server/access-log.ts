import type { Logger, LogLevel } from "./logger.js";

/** AccessProtocol is what a request spoke, as the access log names it. */
export type AccessProtocol =
  | "rest"
  | "aws-json"
  | "connect"
  | "grpc"
  | "grpc-web"
  | "health"
  | "reflection"
  | "other";

/**
 * AccessEntry is one request as the access log records it. It holds no secret, no key
 * material and no request body: `caller` is an access key's display name and `authError`
 * the verifier's reason, which never contains a secret or a signature.
 */
export interface AccessEntry {
  reqId: string;
  remote: string | null;
  protocol: AccessProtocol;
  /** `package.Service/Method`, or null when the request named no RPC. */
  rpc: string | null;
  method: string;
  path: string;
  /** The HTTP status sent (0 when the client went away before any was). */
  status: number;
  /** The RPC status code name (`ok`, `invalid_argument`, …). */
  code: string;
  ms: number;
  caller: string | null;
  authError?: string;
  /** The client went away (or reset the stream) before the response was complete. */
  aborted?: boolean;
  /** The body did not arrive within the body deadline. */
  timedOut?: boolean;
}

/** AccessLogOptions tune createAccessLog. */
export interface AccessLogOptions {
  log: Logger;
  /** How long identical auth failures are folded into one summary line (10 s). */
  authFailureWindowMs?: number;
  /** How many distinct auth failures are tracked per window (1000); the rest share one slot. */
  maxAuthFailureKeys?: number;
}

/** AccessLog writes access lines; close() flushes pending summaries and stops its timer. */
export interface AccessLog {
  write(entry: AccessEntry): void;
  close(): void;
}

/**
 * createAccessLog returns the access log: one line per request with `message: "request"`.
 * When the logger takes preformatted lines (writeLine) the line is built here, field by
 * field, with the logger's own shape: formatting through the generic logger costs several
 * µs of event-loop time per request, this a fraction of one. The lines of one event-loop
 * turn (at most 64 KiB) are handed to the logger's asynchronous destination together, in
 * one write instead of one per request; close() writes what is still held.
 * Levels: an aborted request is info whatever its status (a client that hangs up is not our
 * failure); a server fault (5xx other than 503, or an internal/unknown/data_loss code) is
 * error; an auth failure is warn; anything else info. Auth failures that repeat (same
 * reason, remote address, path and protocol) within a window are written once; at the end
 * of the window one line says how many were suppressed, so a flood of bad signatures costs
 * a few lines, not one per request.
 */
export function createAccessLog(options: AccessLogOptions): AccessLog {
  const { log } = options;
  const windowMs = options.authFailureWindowMs ?? 10_000;
  const maxKeys = options.maxAuthFailureKeys ?? 1000;
  /** Auth failures seen this window, by key: how many were suppressed since the first. */
  const seen = new Map<string, { sample: AccessEntry; suppressed: number }>();
  let timer: NodeJS.Timeout | undefined;
  const writeLine = log.writeLine;
  const clock = createIsoClock();
  /** Formatted lines not yet handed to the logger: one write per event-loop turn. */
  let batch = "";
  let batchScheduled = false;

  function flushBatch(): void {
    batchScheduled = false;
    if (batch === "" || writeLine === undefined) return;
    const lines = batch;
    batch = "";
    writeLine(lines);
  }

  function flush(): void {
    for (const { sample, suppressed } of seen.values()) {
      if (suppressed === 0) continue;
      log("warn", "repeated auth failures suppressed", {
        authError: sample.authError,
        remote: sample.remote,
        protocol: sample.protocol,
        path: sample.path,
        suppressed,
        windowMs,
      });
    }
    seen.clear();
    timer = undefined;
  }

  return {
    write(entry) {
      if (entry.authError !== undefined) {
        const overflow = seen.size >= maxKeys;
        // Past the bound every new failure shares one slot: memory stays bounded
        // whatever a flood of distinct addresses or paths does.
        const key = overflow
          ? "\0overflow"
          : `${entry.authError}\0${entry.remote}\0${entry.path}\0${entry.protocol}`;
        const known = seen.get(key);
        if (known !== undefined) {
          known.suppressed++;
          return;
        }
        seen.set(key, {
          sample: overflow ? { ...entry, remote: null, path: "*", authError: "*" } : entry,
          suppressed: 0,
        });
        if (timer === undefined) {
          timer = setTimeout(flush, windowMs);
          timer.unref();
        }
      }
      const level = levelOf(entry);
      if (writeLine === undefined) {
        log(level, "request", { ...entry });
      } else {
        batch += formatAccessLine(level, entry, clock.iso());
        if (batch.length >= maxBatchChars) {
          flushBatch();
        } else if (!batchScheduled) {
          batchScheduled = true;
          setImmediate(flushBatch);
        }
      }
    },
    close() {
      if (timer !== undefined) clearTimeout(timer);
      flushBatch();
      flush();
    },
  };
}

/** maxBatchChars bounds the access lines held before a write (64 KiB of text). */
const maxBatchChars = 64 * 1024;

const serverFaultCodes = new Set(["internal", "unknown", "data_loss"]);

function levelOf(entry: AccessEntry): LogLevel {
  if (entry.aborted || entry.timedOut) return "info";
  if ((entry.status >= 500 && entry.status !== 503) || serverFaultCodes.has(entry.code)) {
    return "error";
  }
  if (entry.authError !== undefined) return "warn";
  return "info";
}

/**
 * formatAccessLine writes an access entry as one JSON line, as the logger writes its own
 * lines (`level`, `time`, the fields, `message`). Every string the client may have chosen
 * goes through JSON.stringify; the optional fields appear only when set, as before.
 */
export function formatAccessLine(level: LogLevel, entry: AccessEntry, time: string): string {
  let line =
    `{"level":"${level}","time":"${time}","reqId":${JSON.stringify(entry.reqId)}` +
    `,"remote":${nullableString(entry.remote)},"protocol":${JSON.stringify(entry.protocol)}` +
    `,"rpc":${nullableString(entry.rpc)},"method":${JSON.stringify(entry.method)}` +
    `,"path":${JSON.stringify(entry.path)},"status":${finiteNumber(entry.status)}` +
    `,"code":${JSON.stringify(entry.code)},"ms":${finiteNumber(entry.ms)}` +
    `,"caller":${nullableString(entry.caller)}`;
  if (entry.authError !== undefined) line += `,"authError":${JSON.stringify(entry.authError)}`;
  if (entry.aborted !== undefined) line += `,"aborted":${entry.aborted === true}`;
  if (entry.timedOut !== undefined) line += `,"timedOut":${entry.timedOut === true}`;
  return `${line},"message":"request"}\n`;
}

function nullableString(value: string | null): string {
  return value === null ? "null" : JSON.stringify(value);
}

/** finiteNumber writes a number as JSON does: NaN and the infinities become null. */
function finiteNumber(value: number): string {
  return Number.isFinite(value) ? `${value}` : "null";
}

/**
 * createIsoClock returns the time as an ISO 8601 string (what Date#toISOString
 * gives), formatted at most once per millisecond, and from a cached
 * `YYYY-MM-DDTHH:mm:ss.` prefix within one second: a busy gateway writes many
 * lines in the same millisecond, and thousands in the same second.
 */
export function createIsoClock(): { iso(): string } {
  let lastMs = -1;
  let last = "";
  let secondStart = -1;
  let secondPrefix = "";
  return {
    iso() {
      const now = Date.now();
      if (now !== lastMs) {
        lastMs = now;
        if (now < 0) {
          last = new Date(now).toISOString();
          return last;
        }
        const ms = now % 1000;
        if (now - ms !== secondStart) {
          secondStart = now - ms;
          // The same 20 characters for every year up to 9999.
          secondPrefix = new Date(secondStart).toISOString().slice(0, 20);
        }
        last = `${secondPrefix}${ms < 10 ? "00" : ms < 100 ? "0" : ""}${ms}Z`;
      }
      return last;
    },
  };
}
