import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { KmsConfigSchema } from "../../gen/kms/admin/v1/types_pb.js";
import { EXIT } from "../../src/cli/exit-codes.js";
import { restErrorCodes } from "../../src/rest/index.js";

// Issue 11 item 6: every CLI flag, environment variable, configuration field and error code
// the code has appears in the docs. The lists come from the code (and the proto), so a flag
// or variable added without a doc line fails here.

const root = new URL("../../", import.meta.url).pathname;
const read = (path: string) => readFileSync(join(root, path), "utf8");
const configuration = read("docs/configuration.md");
const troubleshooting = read("docs/troubleshooting.md");

/** sources returns the text of every .ts file under src/. */
function sources(dir = "src"): { path: string; text: string }[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith(".ts") ? [{ path, text: read(path) }] : [];
  });
}

/** serverFlags are the long flags parseCliOptions accepts, read from its parseArgs table. */
function serverFlags(): string[] {
  const text = read("src/cli-options.ts");
  const table = /parseArgs\(\{[\s\S]*?options: \{([\s\S]*?)\n {4}\},\n {2}\}\);/.exec(text)?.[1];
  if (table === undefined) throw new Error("parseArgs options table not found in cli-options.ts");
  return [...table.matchAll(/^\s+"?([a-z][a-z-]*)"?: \{ type:/gm)].map((m) => `--${m[1]}`);
}

/** clientFlags are every commander option the client CLI declares. */
function clientFlags(): string[] {
  const flags = sources("src/cli").flatMap(({ text }) =>
    [...text.matchAll(/\.(?:requiredOption|option)\(\s*"(?:-[a-zA-Z], )?(--[a-z][a-z-]*)/g)].map(
      (m) => m[1] as string,
    ),
  );
  return [...new Set(flags)];
}

/** envVars are the environment variables the code reads (`env.NAME`, `env["NAME"]`). */
function envVars(): string[] {
  const names = sources().flatMap(({ text }) =>
    [...text.matchAll(/\benv(?:\.|\[")([A-Z][A-Z0-9_]+)/g)].map((m) => m[1] as string),
  );
  return [...new Set(names)];
}

/** engineErrorCodes are the KmsErrorCode members, read from their declaration. */
function engineErrorCodes(): string[] {
  const text = read("src/engine/errors.ts");
  const union = /export type KmsErrorCode =([\s\S]*?);/.exec(text)?.[1] ?? "";
  return [...union.matchAll(/\| "([A-Z_]+)"/g)].map((m) => m[1] as string);
}

const mentioned = (doc: string, word: string) => doc.includes(`\`${word}`);

describe("the docs cover the code", () => {
  it("every server flag is in docs/configuration.md", () => {
    const flags = serverFlags();
    expect(flags).toContain("--data-dir");
    expect(flags.filter((flag) => !mentioned(configuration, flag))).toEqual([]);
  });

  it("every client flag is in docs/configuration.md", () => {
    const flags = clientFlags();
    expect(flags).toContain("--show-plaintext");
    expect(flags.filter((flag) => !mentioned(configuration, flag))).toEqual([]);
  });

  it("every environment variable the code reads is in docs/configuration.md", () => {
    const names = envVars();
    expect(names).toContain("KMS_GATEWAY_ADDRESS");
    expect(names.filter((name) => !mentioned(configuration, name))).toEqual([]);
  });

  it("every configure field of the proto's KmsConfig is in docs/configuration.md", () => {
    const fields = KmsConfigSchema.fields.map((f) => f.name);
    expect(fields.length).toBeGreaterThan(15);
    expect(fields.filter((name) => !mentioned(configuration, name))).toEqual([]);
  });

  it("every error code and exit code is in docs/troubleshooting.md", () => {
    const codes = [...restErrorCodes, ...engineErrorCodes()];
    expect(codes).toContain("CONFIG_CONFLICT");
    expect(codes.filter((code) => !mentioned(troubleshooting, code))).toEqual([]);
    for (const exit of Object.values(EXIT)) {
      expect(troubleshooting).toMatch(new RegExp(`^\\| ${exit} \\|`, "m"));
    }
  });
});
