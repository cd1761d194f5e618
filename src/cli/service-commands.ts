import { readFileSync } from "node:fs";
import { type DescField, fromJson, type JsonObject, ScalarType } from "@bufbuild/protobuf";
import type { Command } from "commander";
import {
  ClearCacheResponseSchema,
  ConfigureResponseSchema,
  GetConfigResponseSchema,
  GetStatusResponseSchema,
  ReconfigureResponseSchema,
  RekeyMasterResponseSchema,
  StartServiceResponseSchema,
  StopServiceResponseSchema,
} from "../../gen/kms/admin/v1/service_pb.js";
import { KmsConfigSchema } from "../../gen/kms/admin/v1/types_pb.js";
import type { ClientContext } from "./client-context.js";
import { UsageError } from "./exit-codes.js";

/** addServiceCommands adds status, config, configure, reconfigure, start, stop, clear-cache and rekey. */
export function addServiceCommands(program: Command, context: () => ClientContext): void {
  program
    .command("status")
    .description("show the KMS status: NotConfigured, Configured, Running or Error")
    .action(async () => {
      const c = context();
      c.out.message(GetStatusResponseSchema, await c.client().getStatus({}));
    });
  program
    .command("config")
    .description("show the configuration (secrets are never shown)")
    .action(async () => {
      const c = context();
      c.out.message(GetConfigResponseSchema, await c.client().getConfig({}));
    });
  program
    .command("configure")
    .description("configure the KMS from a JSON file in the documented shape (does not start it)")
    .requiredOption("--file <file>", 'the configuration, e.g. {"backend_type": "local"}')
    .action(async (opts: { file: string }) => {
      const c = context();
      const config = parseConfig(readJsonFile(opts.file), opts.file);
      c.out.message(ConfigureResponseSchema, await c.client().configure({ config }));
    });
  program
    .command("reconfigure")
    .description(
      "change configuration fields, e.g. --set cache_ttl_seconds=60 --set enable_cache=false",
    )
    .requiredOption("--set <field=value...>", "a field of the configuration and its new value")
    .action(async (opts: { set: string[] }) => {
      const c = context();
      const config = parseConfig(fieldsFromPairs(opts.set), "--set");
      c.out.message(ReconfigureResponseSchema, await c.client().reconfigure({ config }));
    });
  program
    .command("start")
    .description("start the configured KMS")
    .action(async () => {
      const c = context();
      c.out.message(StartServiceResponseSchema, await c.client().startService({}));
    });
  program
    .command("stop")
    .description("stop the KMS (the configuration is kept)")
    .action(async () => {
      const c = context();
      c.out.message(StopServiceResponseSchema, await c.client().stopService({}));
    });
  program
    .command("clear-cache")
    .description("drop every cached key and key material")
    .action(async () => {
      const c = context();
      c.out.message(ClearCacheResponseSchema, await c.client().clearCache({}));
      if (!c.out.json) c.out.line("cache cleared");
    });
  addRekeyCommand(program, context);
}

/** addRekeyCommand adds `rekey`: the new master key never goes on the command line. */
function addRekeyCommand(program: Command, context: () => ClientContext): void {
  program
    .command("rekey")
    .description("reseal every key under a new master key (crash-safe; the KMS keeps running)")
    .option(
      "--master-key-file <path>",
      "a file on the server holding the new key, read at every start",
    )
    .option("--master-key-env <name>", "an environment variable of the server holding the new key")
    .option(
      "--master-key-stdin",
      "read the new key from standard input (kept in the 0600 state file)",
    )
    .action(
      async (opts: { masterKeyFile?: string; masterKeyEnv?: string; masterKeyStdin?: boolean }) => {
        const c = context();
        const given = [opts.masterKeyFile, opts.masterKeyEnv, opts.masterKeyStdin].filter(
          (v) => v !== undefined,
        );
        if (given.length !== 1) {
          throw new UsageError(
            "give exactly one of --master-key-file, --master-key-env, --master-key-stdin",
          );
        }
        const masterKey = opts.masterKeyStdin ? (await readStdin()).trim() : undefined;
        if (masterKey === "") throw new UsageError("--master-key-stdin: standard input was empty");
        c.out.message(
          RekeyMasterResponseSchema,
          await c.client().rekeyMaster({
            masterKey,
            masterKeyFile: opts.masterKeyFile,
            masterKeyEnv: opts.masterKeyEnv,
          }),
        );
      },
    );
}

/** readStdin reads standard input to its end (at most 4 KiB: a key, not a file). */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > 4096) throw new UsageError("--master-key-stdin: more than 4 KiB on standard input");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function readJsonFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new UsageError(
      `--file: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
  try {
    return JSON.parse(text);
  } catch {
    // The parser's message may quote the file, which can hold a master key or a token.
    throw new UsageError(`--file: ${path} is not valid JSON`);
  }
}

function parseConfig(json: unknown, where: string) {
  try {
    return fromJson(KmsConfigSchema, json as JsonObject);
  } catch (error) {
    // protobuf-es quotes the offending value ("expected string, got …"), and the value
    // may be a master key or a token: keep the field and the expected type only.
    const reason = (error as Error).message.replace(/, got [\s\S]*$/, "");
    throw new UsageError(`${where}: ${reason}`);
  }
}

/** fieldsFromPairs turns `field=value` pairs into configuration JSON, typed by the proto. */
function fieldsFromPairs(pairs: readonly string[]): JsonObject {
  const json: JsonObject = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    const name = eq < 0 ? pair : pair.slice(0, eq);
    const field: DescField | undefined = KmsConfigSchema.fields.find((f) => f.name === name);
    if (eq <= 0 || field === undefined || field.fieldKind !== "scalar") {
      const names = KmsConfigSchema.fields
        .filter((f) => f.fieldKind === "scalar")
        .map((f) => f.name);
      throw new UsageError(
        `--set: "${pair}" is not field=value with a field of ${names.join(", ")}`,
      );
    }
    if (name === "master_key") {
      throw new UsageError(
        "--set: a master key does not go on the command line (shell history, process list): use configure --file or rekey",
      );
    }
    const value = pair.slice(eq + 1);
    if (field.scalar === ScalarType.BOOL) {
      if (value !== "true" && value !== "false")
        throw new UsageError(`--set ${name}: true or false`);
      json[name] = value === "true";
    } else if (field.scalar === ScalarType.UINT32) {
      if (!/^\d+$/.test(value)) throw new UsageError(`--set ${name}: a whole number`);
      json[name] = Number(value);
    } else {
      json[name] = value;
    }
  }
  return json;
}
