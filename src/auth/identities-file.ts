import { constants, promises as fs } from "node:fs";
import { CANNED_POLICY_NAMES, cannedPolicy } from "./canned-policies.js";
import type { StaticCredential } from "./credential-store.js";
import { type PolicyDocument, PolicyError, parsePolicyDocument } from "./policy-document.js";

/** MAX_IDENTITIES_FILE_BYTES bounds the identities file (1 MiB). */
export const MAX_IDENTITIES_FILE_BYTES = 1024 * 1024;
const MAX_IDENTITIES = 1000;
const ACCESS_KEY = /^[A-Za-z0-9._@+=,-]{3,128}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const IDENTITY_FIELDS = new Set([
  "access_key",
  "secret_key",
  "secret_key_env",
  "display_name",
  "policies",
]);

/** IdentitiesFileError says why an identities file cannot be used; it never holds a secret. */
export class IdentitiesFileError extends Error {
  override readonly name = "IdentitiesFileError";
}

/**
 * readIdentitiesFile reads, checks and parses an identities file (format in
 * docs/identities.md). It refuses a file that is not a regular file, that group or
 * others may read or write (it holds secrets SigV4 needs in the clear), that is
 * larger than 1 MiB, or whose content is invalid; every message names the place
 * and never a secret.
 */
export async function readIdentitiesFile(
  path: string,
  env: NodeJS.ProcessEnv,
): Promise<StaticCredential[]> {
  let text: string;
  const handle = await fs
    .open(path, constants.O_RDONLY | constants.O_NOFOLLOW)
    .catch((error: NodeJS.ErrnoException) => {
      throw new IdentitiesFileError(
        `identities file ${path} cannot be opened (${error.code ?? "error"})`,
      );
    });
  try {
    const stat = await handle.stat();
    if (!stat.isFile())
      throw new IdentitiesFileError(`identities file ${path} is not a regular file`);
    if ((stat.mode & 0o077) !== 0) {
      const mode = (stat.mode & 0o777).toString(8).padStart(4, "0");
      throw new IdentitiesFileError(
        `identities file ${path} is open to group or others (mode ${mode}); it holds secret keys: chmod 600 ${path}`,
      );
    }
    if (stat.size > MAX_IDENTITIES_FILE_BYTES) {
      throw new IdentitiesFileError(
        `identities file ${path} is larger than ${MAX_IDENTITIES_FILE_BYTES} bytes`,
      );
    }
    text = await handle.readFile({ encoding: "utf8" });
  } finally {
    await handle.close();
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // JSON.parse's message can quote the text, and the text holds secrets.
    throw new IdentitiesFileError(`identities file ${path} is not valid JSON`);
  }
  try {
    return parseIdentities(json, env);
  } catch (error) {
    if (error instanceof PolicyError || error instanceof IdentitiesFileError) {
      throw new IdentitiesFileError(`identities file ${path}: ${error.message}`);
    }
    throw error;
  }
}

/** parseIdentities validates the parsed content of an identities file. */
export function parseIdentities(json: unknown, env: NodeJS.ProcessEnv): StaticCredential[] {
  const root = json as { identities?: unknown } | null;
  if (
    root === null ||
    typeof root !== "object" ||
    Array.isArray(root) ||
    !Array.isArray(root.identities)
  ) {
    throw new IdentitiesFileError(`expected {"identities": [...]}`);
  }
  if (root.identities.length > MAX_IDENTITIES) {
    throw new IdentitiesFileError(`at most ${MAX_IDENTITIES} identities`);
  }
  const seen = new Set<string>();
  return root.identities.map((value, i) => {
    const where = `identities[${i}]`;
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw new IdentitiesFileError(`${where}: must be an object`);
    }
    const entry = value as Record<string, unknown>;
    for (const field of Object.keys(entry)) {
      if (!IDENTITY_FIELDS.has(field))
        throw new IdentitiesFileError(`${where}.${field}: unknown field`);
    }
    const accessKey = entry.access_key;
    if (typeof accessKey !== "string" || !ACCESS_KEY.test(accessKey)) {
      throw new IdentitiesFileError(
        `${where}.access_key: 3 to 128 characters of A-Z a-z 0-9 . _ @ + = , -`,
      );
    }
    if (seen.has(accessKey))
      throw new IdentitiesFileError(`${where}.access_key: "${accessKey}" appears twice`);
    seen.add(accessKey);
    const secretKey = secretOf(entry, env, where);
    const displayName = entry.display_name;
    if (
      displayName !== undefined &&
      (typeof displayName !== "string" || displayName.length > 256)
    ) {
      throw new IdentitiesFileError(`${where}.display_name: a string of at most 256 characters`);
    }
    const policies = policiesOf(entry.policies, `${where}.policies`);
    return {
      secretKey,
      identity: Object.freeze({
        name: displayName ?? accessKey,
        accessKey,
        root: false,
        policies: Object.freeze(policies),
      }),
    };
  });
}

function secretOf(entry: Record<string, unknown>, env: NodeJS.ProcessEnv, where: string): string {
  const inline = entry.secret_key;
  const fromEnv = entry.secret_key_env;
  if ((inline === undefined) === (fromEnv === undefined)) {
    throw new IdentitiesFileError(`${where}: exactly one of secret_key and secret_key_env`);
  }
  if (inline !== undefined) {
    if (typeof inline !== "string" || inline.length < 8 || inline.length > 256) {
      throw new IdentitiesFileError(`${where}.secret_key: 8 to 256 characters`);
    }
    return inline;
  }
  if (typeof fromEnv !== "string" || !ENV_NAME.test(fromEnv)) {
    throw new IdentitiesFileError(`${where}.secret_key_env: the name of an environment variable`);
  }
  const value = env[fromEnv];
  if (value === undefined || value.length < 8 || value.length > 256) {
    throw new IdentitiesFileError(
      `${where}.secret_key_env: ${fromEnv} must hold 8 to 256 characters`,
    );
  }
  return value;
}

function policiesOf(value: unknown, where: string): PolicyDocument[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > 20) {
    throw new IdentitiesFileError(`${where}: 1 to 20 policies (canned names or policy objects)`);
  }
  return value.map((p, j) => {
    if (typeof p === "string") {
      const canned = cannedPolicy(p);
      if (!canned) {
        throw new IdentitiesFileError(
          `${where}[${j}]: unknown canned policy "${p}" (known: ${CANNED_POLICY_NAMES.join(", ")}; KMSKeyUser may take :<key-id pattern>)`,
        );
      }
      return canned;
    }
    return parsePolicyDocument(p, `${where}[${j}]`);
  });
}
