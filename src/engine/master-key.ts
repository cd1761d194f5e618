import { KmsError } from "./errors.js";
import type { LocalBackendConfig } from "./types.js";

/** MAX_MASTER_KEY_LENGTH bounds a master key, inline, in a file or in the environment (4 KiB). */
export const MAX_MASTER_KEY_LENGTH = 4096;

/**
 * SecretFileReader reads at most `maxBytes + 1` bytes of a regular file (so an
 * oversized one can be told apart without reading it all). It rejects when the
 * file is missing, unreadable or not a regular file; the engine has no file
 * system of its own, so the composition root supplies it.
 */
export type SecretFileReader = (path: string, maxBytes: number) => Promise<Uint8Array>;

/** MasterKeySources is where readConfiguredMasterKey looks besides the configuration. */
export interface MasterKeySources {
  readFile?: SecretFileReader;
  env: Readonly<Record<string, string | undefined>>;
}

/** hasConfiguredMasterKey tells whether a local configuration names a master key (inline, file or environment). */
export function hasConfiguredMasterKey(backend: LocalBackendConfig): boolean {
  return (
    backend.masterKey !== null || backend.masterKeyFile != null || backend.masterKeyEnv != null
  );
}

/**
 * readConfiguredMasterKey returns the master key a local configuration names:
 * `master_key` as stored, or the contents of `master_key_file`, or the value of
 * the environment variable `master_key_env`, read now (at every start, never
 * kept beyond it); null when none is configured. A file's trailing line break
 * (`echo KEY > file`) and surrounding whitespace are dropped. A missing,
 * unreadable, empty or oversized source rejects with CONFIG_CONFLICT naming
 * the source, never its contents.
 */
export async function readConfiguredMasterKey(
  backend: LocalBackendConfig,
  sources: MasterKeySources,
): Promise<string | null> {
  if (backend.masterKey !== null) return backend.masterKey;
  if (backend.masterKeyFile != null) {
    const path = backend.masterKeyFile;
    if (sources.readFile === undefined) {
      throw conflict(`master_key_file cannot be read: this build has no file reader`);
    }
    let bytes: Uint8Array;
    try {
      bytes = await sources.readFile(path, MAX_MASTER_KEY_LENGTH);
    } catch (cause) {
      const code = (cause as { code?: unknown } | null)?.code;
      const why = typeof code === "string" ? ` (${code})` : "";
      throw new KmsError("CONFIG_CONFLICT", `master_key_file ${path} cannot be read${why}`, {
        cause,
      });
    }
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
    Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).fill(0);
    return checked(text.trim(), `master_key_file ${path}`);
  }
  if (backend.masterKeyEnv != null) {
    const name = backend.masterKeyEnv;
    const value = sources.env[name];
    if (value === undefined) throw conflict(`master_key_env: ${name} is not set`);
    return checked(value.trim(), `master_key_env ${name}`);
  }
  return null;
}

function checked(key: string, source: string): string {
  if (key.length === 0) throw conflict(`${source} is empty`);
  if (key.length > MAX_MASTER_KEY_LENGTH) {
    throw conflict(`${source} is longer than ${MAX_MASTER_KEY_LENGTH} characters`);
  }
  if (key.includes("\0")) throw conflict(`${source} contains a NUL character`);
  return key;
}

function conflict(message: string): KmsError {
  return new KmsError("CONFIG_CONFLICT", message);
}
