import { Code, ConnectError } from "@connectrpc/connect";
import { Command, CommanderError } from "commander";
import {
  type ClientContext,
  DEFAULT_ENDPOINT,
  type GlobalOptions,
  resolveClientContext,
} from "./client-context.js";
import { addDataKeyCommands } from "./datakey-commands.js";
import { EXIT, exitCodeFor, UsageError } from "./exit-codes.js";
import { addKeyCommands } from "./key-commands.js";
import { createOutput } from "./output.js";
import { addServiceCommands } from "./service-commands.js";
import { addSignCommand } from "./sign-command.js";

/** CLIENT_COMMANDS are the first words that make `kms-gateway` a client instead of a server. */
export const CLIENT_COMMANDS: ReadonlySet<string> = new Set([
  "status",
  "config",
  "configure",
  "reconfigure",
  "start",
  "stop",
  "clear-cache",
  "rekey",
  "key",
  "datakey",
  "encrypt",
  "decrypt",
  "sign",
  "help",
]);

/** Global flags that take a value, so the word after one is not taken for a command. */
const VALUE_FLAGS = new Set(["--endpoint", "--access-key", "--secret-key", "--protocol", "--ca"]);

/**
 * isClientInvocation tells whether argv asks for a client command: its first word
 * that is neither a flag nor a global flag's value is one of CLIENT_COMMANDS.
 */
export function isClientInvocation(argv: readonly string[]): boolean {
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string;
    if (token.startsWith("-")) {
      if (VALUE_FLAGS.has(token)) i++;
      continue;
    }
    return CLIENT_COMMANDS.has(token);
  }
  return false;
}

const EXIT_HELP = `
Exit codes: 0 done, 1 server fault, 2 usage error, 3 authentication or permission refused,
4 no such key, 5 request refused (invalid input, key state, existing key), 6 unavailable.
Credentials: --access-key/--secret-key, or RUSTFS_ACCESS_KEY/RUSTFS_SECRET_KEY, or
AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY. Endpoint: --endpoint or KMS_ENDPOINT [${DEFAULT_ENDPOINT}].
Run the server with \`kms-gateway serve --help\`.`;

/**
 * runClientCli runs one client command (`kms-gateway key list`, …) and resolves to
 * its exit code. Errors print one line on stderr: the server's message (safe to
 * show: it never holds secrets) or what was wrong with the command line.
 */
export async function runClientCli(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  streams: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream } = process,
): Promise<number> {
  const program = new Command("kms-gateway")
    .description("A client of the kms-gateway admin API (the server is `kms-gateway serve`).")
    .option("--endpoint <url>", `the gateway [KMS_ENDPOINT or ${DEFAULT_ENDPOINT}]`)
    .option("--access-key <key>", "the access key [RUSTFS_ACCESS_KEY]")
    .option("--secret-key <secret>", "the secret key [RUSTFS_SECRET_KEY]")
    .option("--protocol <protocol>", "connect, grpc or grpc-web [connect]")
    .option("--ca <file>", "a PEM CA bundle for an https endpoint")
    .option("--json", "machine-readable output")
    .addHelpText("after", EXIT_HELP)
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => streams.stdout.write(s),
      writeErr: (s) => streams.stderr.write(s),
    });
  const context = (): ClientContext => {
    const options = program.opts<GlobalOptions>();
    return resolveClientContext(
      options,
      env,
      createOutput(options.json === true, streams.stdout, streams.stderr),
    );
  };
  addServiceCommands(program, context);
  addKeyCommands(program, context);
  addDataKeyCommands(program, context);
  addSignCommand(program, context);
  for (const command of program.commands) {
    command.exitOverride();
    for (const sub of command.commands) sub.exitOverride();
  }
  try {
    await program.parseAsync([...argv], { from: "user" });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here too, successfully.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    streams.stderr.write(`kms-gateway: ${describe(error)}\n`);
    return exitCodeFor(error);
  }
}

function describe(error: unknown): string {
  if (error instanceof UsageError) return error.message;
  if (error instanceof ConnectError) return `${Code[error.code]}: ${error.rawMessage}`;
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return error instanceof Error ? `${error.message}${code ? ` (${code})` : ""}` : String(error);
}
