import {
  closeSync,
  constants,
  openSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import type { Command } from "commander";
import type { ClientContext } from "./client-context.js";
import { UsageError } from "./exit-codes.js";
import { collectPair, emptyPairs } from "./key-value-pairs.js";

interface PlaintextOptions {
  context: Record<string, string>;
  showPlaintext?: boolean;
  out?: string;
}

/**
 * addDataKeyCommands adds `datakey generate`, `encrypt` and `decrypt`. A plaintext key is
 * printed only with --show-plaintext; otherwise it goes to --out FILE, created
 * 0600 and never over an existing file, or nowhere (with a note saying so).
 */
export function addDataKeyCommands(program: Command, context: () => ClientContext): void {
  const datakey = program.command("datakey").description("generate data keys");
  datakey
    .command("generate")
    .description(
      "generate a data key under a master key (the configured default when none is named)",
    )
    .argument("[key-id]")
    .option("--spec <spec>", "AES_256 or AES_128 [AES_256]")
    .option(
      "--context <key=value>",
      "an encryption context entry (repeatable)",
      collectPair("--context"),
      emptyPairs(),
    )
    .option("--show-plaintext", "print the plaintext key (base64) as well")
    .option("--out <file>", "write the plaintext key's raw bytes to a new 0600 file")
    .action(async (keyId: string | undefined, opts: PlaintextOptions & { spec?: string }) => {
      const c = context();
      await withPlaintextTarget(opts, async (target) => {
        const res = await c.client().generateDataKey({
          keyId,
          keySpec: opts.spec,
          encryptionContext: { ...opts.context },
        });
        const blob = Buffer.from(res.ciphertextBlob).toString("base64");
        emitPlaintext(c, opts, target, res.plaintextKey, {
          key_id: res.keyId,
          ciphertext_blob: blob,
        });
      });
    });
  program
    .command("encrypt")
    .description("encrypt up to 4 KiB of plaintext (from --text or --file) under a master key")
    .argument("[key-id]")
    .option("--text <text>", "the plaintext, as UTF-8")
    .option("--file <file>", "read the plaintext from a file")
    .option(
      "--context <key=value>",
      "an encryption context entry (repeatable)",
      collectPair("--context"),
      emptyPairs(),
    )
    .action(
      async (
        keyId: string | undefined,
        opts: { text?: string; file?: string; context: Record<string, string> },
      ) => {
        const c = context();
        if ((opts.text === undefined) === (opts.file === undefined)) {
          throw new UsageError("give the plaintext with --text or --file (one of them)");
        }
        const plaintext =
          opts.text !== undefined
            ? Buffer.from(opts.text, "utf8")
            : readPlaintextFile(opts.file as string);
        try {
          const res = await c
            .client()
            .encrypt({ keyId, plaintext, encryptionContext: { ...opts.context } });
          const fields = {
            key_id: res.keyId,
            ciphertext_blob: Buffer.from(res.ciphertextBlob).toString("base64"),
          };
          if (c.out.json) c.out.line(JSON.stringify(fields, null, 2));
          else for (const [k, v] of Object.entries(fields)) c.out.line(`${k}: ${v}`);
        } finally {
          plaintext.fill(0);
        }
      },
    );
  program
    .command("decrypt")
    .description("unwrap a data key's ciphertext blob (base64) with its encryption context")
    .argument("<ciphertext-blob>")
    .option(
      "--context <key=value>",
      "an encryption context entry (repeatable)",
      collectPair("--context"),
      emptyPairs(),
    )
    .option("--show-plaintext", "print the plaintext key (base64)")
    .option("--out <file>", "write the plaintext key's raw bytes to a new 0600 file")
    .action(async (blob: string, opts: PlaintextOptions) => {
      const c = context();
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(blob))
        throw new UsageError("the ciphertext blob must be standard base64");
      await withPlaintextTarget(opts, async (target) => {
        const res = await c.client().decrypt({
          ciphertextBlob: Buffer.from(blob, "base64"),
          encryptionContext: { ...opts.context },
        });
        emitPlaintext(c, opts, target, res.plaintextKey, { key_id: res.keyId });
      });
    });
}

/** MAX_ENCRYPT_FILE_BYTES stops a mistaken `--file` early; the server's own bound is 4 KiB. */
const MAX_ENCRYPT_FILE_BYTES = 64 * 1024;

function readPlaintextFile(path: string): Buffer {
  try {
    if (statSync(path).size > MAX_ENCRYPT_FILE_BYTES) {
      throw new UsageError(
        `--file: ${path} is larger than ${MAX_ENCRYPT_FILE_BYTES} bytes (encrypt takes up to 4 KiB)`,
      );
    }
    return readFileSync(path);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(
      `--file: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
}

/**
 * withPlaintextTarget checks the plaintext flags and creates the --out file (0600,
 * never over an existing one) before `call` runs, so a data key is never issued into
 * a file that cannot be written; the file is removed again if `call` fails.
 */
async function withPlaintextTarget(
  opts: PlaintextOptions,
  call: (fd: number | null) => Promise<void>,
): Promise<void> {
  if (opts.showPlaintext && opts.out !== undefined) {
    throw new UsageError("choose --show-plaintext or --out, not both");
  }
  if (opts.out === undefined) {
    await call(null);
    return;
  }
  let fd: number;
  try {
    fd = openSync(
      opts.out,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o600,
    );
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      `--out: cannot create ${opts.out} (${code === "EEXIST" ? "it exists; no key is written over it" : code})`,
    );
  }
  let written = false;
  try {
    await call(fd);
    written = true;
  } finally {
    closeSync(fd);
    if (!written) unlinkSync(opts.out);
  }
}

/** emitPlaintext prints `fields`, and the plaintext key where the flags say, then zeroes it. */
function emitPlaintext(
  c: ClientContext,
  opts: PlaintextOptions,
  fd: number | null,
  plaintext: Uint8Array,
  fields: Record<string, string>,
): void {
  try {
    if (fd !== null) writeSync(fd, plaintext);
    const shown = opts.showPlaintext
      ? { ...fields, plaintext_key: Buffer.from(plaintext).toString("base64") }
      : fields;
    if (c.out.json) c.out.line(JSON.stringify(shown, null, 2));
    else for (const [k, v] of Object.entries(shown)) c.out.line(`${k}: ${v}`);
    if (fd !== null) c.out.note(`plaintext key written to ${opts.out} (0600)`);
    else if (!opts.showPlaintext)
      c.out.note("plaintext key not shown: use --out FILE (or --show-plaintext)");
  } finally {
    plaintext.fill(0);
  }
}
