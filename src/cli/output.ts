import { type DescMessage, type MessageShape, toJson } from "@bufbuild/protobuf";

/** Output prints a command's result for people (tables, fields) or machines (`--json`). */
export interface Output {
  readonly json: boolean;
  /** message prints a response: snake_case proto JSON with --json, else `field: value` lines. */
  message<Desc extends DescMessage>(schema: Desc, value: MessageShape<Desc>): void;
  /** table prints rows under a header for people; with --json the caller prints JSON instead. */
  table(header: readonly string[], rows: readonly (readonly string[])[]): void;
  /** line prints one line to stdout. */
  line(text: string): void;
  /** note prints to stderr: hints that must not mix with output a script parses. */
  note(text: string): void;
}

/** createOutput writes to the given streams. */
export function createOutput(
  json: boolean,
  stdout: NodeJS.WritableStream,
  stderr: NodeJS.WritableStream,
): Output {
  return {
    json,
    message(schema, value) {
      const rendered = toJson(schema, value, { useProtoFieldName: true });
      if (json) {
        stdout.write(`${JSON.stringify(rendered, null, 2)}\n`);
        return;
      }
      for (const line of fieldLines(rendered, "")) stdout.write(`${line}\n`);
    },
    table(header, rows) {
      const widths = header.map((h, i) =>
        Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)),
      );
      const render = (cells: readonly string[]) =>
        cells
          .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
          .join("  ")
          .trimEnd();
      stdout.write(`${render(header)}\n`);
      for (const row of rows) stdout.write(`${render(row)}\n`);
    },
    line(text) {
      stdout.write(`${text}\n`);
    },
    note(text) {
      stderr.write(`${text}\n`);
    },
  };
}

/** fieldLines flattens proto JSON into `a.b: value` lines, for people. */
function fieldLines(value: unknown, prefix: string): string[] {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return prefix === "" ? [] : [`${prefix}: {}`];
    return entries.flatMap(([k, v]) => fieldLines(v, prefix === "" ? k : `${prefix}.${k}`));
  }
  const text = Array.isArray(value)
    ? value.map((v) => (typeof v === "string" ? v : JSON.stringify(v))).join(", ")
    : String(value);
  return [`${prefix}: ${text}`];
}
