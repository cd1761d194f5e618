/** LogLevel is the severity of a log line. */
export type LogLevel = "info" | "warn" | "error";

/** Logger writes one JSON object per line. Callers never pass secrets or key material. */
export type Logger = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void;

/**
 * createLogger returns a Logger writing JSON lines to `write` (stderr by
 * default). An Error in `fields` is reduced to its name and message so that a
 * stack or a backend's raw response never reaches the log by accident.
 */
export function createLogger(
  write: (line: string) => void = (line) => process.stderr.write(line),
): Logger {
  return (level, message, fields = {}) => {
    const entry: Record<string, unknown> = { time: new Date().toISOString(), level, message };
    for (const [name, value] of Object.entries(fields)) {
      entry[name] = value instanceof Error ? describeError(value) : value;
    }
    write(`${JSON.stringify(entry)}\n`);
  };
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
