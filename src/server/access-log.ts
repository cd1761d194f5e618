import type { Logger, LogLevel } from "./logger.js";

/** AccessProtocol is what a request spoke, as the access log names it. */
export type AccessProtocol =
  | "rest"
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
      log(levelOf(entry), "request", { ...entry });
    },
    close() {
      if (timer !== undefined) clearTimeout(timer);
      flush();
    },
  };
}

const serverFaultCodes = new Set(["internal", "unknown", "data_loss"]);

function levelOf(entry: AccessEntry): LogLevel {
  if (entry.aborted || entry.timedOut) return "info";
  if ((entry.status >= 500 && entry.status !== 503) || serverFaultCodes.has(entry.code)) {
    return "error";
  }
  if (entry.authError !== undefined) return "warn";
  return "info";
}
