import { pino } from "pino";
import pretty from "pino-pretty";

/** LogLevel is the severity of a log line. */
export type LogLevel = "info" | "warn" | "error";

/** Logger writes one JSON object per line. Callers never pass secrets or key material. */
export type Logger = ((
  level: LogLevel,
  message: string,
  fields?: Record<string, unknown>,
) => void) & {
  /**
   * writeLine, when present, takes a line already formatted as this logger would write it
   * (a JSON object with `level`, `time` and `message`, and its newline), into the same
   * stream in order; the access log formats its lines itself, which costs less per request.
   */
  writeLine?: (line: string) => void;
};

/** LoggerOptions choose where lines go; the defaults suit the gateway process. */
export interface LoggerOptions {
  /**
   * Takes each JSON line (with its newline) instead of stderr; for tests.
   * Lines are then written synchronously, in order.
   */
  write?: (line: string) => void;
  /** Human-readable lines instead of JSON; defaults to whether stderr is a TTY. */
  pretty?: boolean;
}

/**
 * createLogger returns a Logger backed by pino. Lines are JSON objects with
 * `time` (ISO 8601), `level` ("info" | "warn" | "error") and `message`, plus
 * the fields given. By default they go to stderr through pino's asynchronous
 * destination, so a slow terminal or pipe never blocks the event loop; pino
 * flushes what is still buffered synchronously when the process exits, so a
 * line written just before `process.exit()` is not lost. On a TTY the lines
 * are printed human-readable instead. An Error in `fields` is reduced to its
 * name and message chain, so that a stack or a backend's raw response never
 * reaches the log by accident.
 */
export function createLogger(options: LoggerOptions | ((line: string) => void) = {}): Logger {
  const opts = typeof options === "function" ? { write: options } : options;
  const base = {
    base: null,
    messageKey: "message",
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  let logger: pino.Logger;
  let writeLine: ((line: string) => void) | undefined;
  if (opts.write !== undefined) {
    const write = opts.write;
    logger = pino(base, { write: (line: string) => write(line) });
    writeLine = write;
  } else if (opts.pretty ?? process.stderr.isTTY === true) {
    // Formatting runs on the main thread, but only for a person at a terminal.
    logger = pino(
      base,
      pretty({ destination: 2, sync: false, messageKey: "message", translateTime: "SYS:iso" }),
    );
  } else {
    const destination = pino.destination({ dest: 2, sync: false });
    logger = pino(base, destination);
    writeLine = (line) => {
      destination.write(line);
    };
  }
  const log: Logger = (level, message, fields = {}) => {
    const entry: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(fields)) {
      entry[name] = value instanceof Error ? describeError(value) : value;
    }
    logger[level](entry, message);
  };
  if (writeLine !== undefined) log.writeLine = writeLine;
  return log;
}

/** describeError keeps an error's class, message and cause chain, not its stack. */
function describeError(err: Error): string {
  const parts = [`${err.name}: ${err.message}`];
  let cause = err.cause;
  for (let depth = 0; cause instanceof Error && depth < 5; depth++) {
    parts.push(`caused by ${cause.name}: ${cause.message}`);
    cause = cause.cause;
  }
  return parts.join("; ");
}
