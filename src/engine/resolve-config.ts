import { isUnderSystemRoot, SYSTEM_DIRECTORY_ROOTS } from "./backend.js";
import { KmsError } from "./errors.js";
import { parseKeyId } from "./key-id.js";
import type {
  BackendType,
  KmsConfig,
  KmsConfigPatch,
  LocalBackendConfig,
  VaultBackendConfig,
} from "./types.js";

const BACKEND_SPELLINGS: Readonly<Record<string, BackendType>> = {
  local: "local",
  Local: "local",
  vault: "vault",
  Vault: "vault",
  VaultTransit: "vault",
  "vault-transit": "vault",
};

/**
 * RustFS's KV-only Vault mode keeps the master keys themselves in KV v2;
 * refused with a message that says what is supported, not as an unknown type.
 */
const KV2_ONLY_SPELLINGS: readonly string[] = ["VaultKV2", "vault-kv2", "VaultKv2", "vault_kv2"];

/** Fields of KmsConfigPatch that belong to one backend, with their API spelling. */
const LOCAL_FIELDS = [
  ["keyDir", "key_dir"],
  ["masterKey", "master_key"],
  ["masterKeyFile", "master_key_file"],
  ["masterKeyEnv", "master_key_env"],
  ["filePermissions", "file_permissions"],
] as const;
const VAULT_FIELDS = [
  ["address", "address"],
  ["authMethod", "auth_method"],
  ["namespace", "namespace"],
  ["mountPath", "mount_path"],
  ["kvMount", "kv_mount"],
  ["keyPathPrefix", "key_path_prefix"],
  ["skipTlsVerify", "skip_tls_verify"],
  ["caCertPath", "ca_cert_path"],
] as const;

/** CONFIG_DEFAULTS are the values of the fields a configuration leaves out (contract §5). */
export const CONFIG_DEFAULTS = {
  mountPath: "transit",
  kvMount: "secret",
  keyPathPrefix: "rustfs/kms/keys",
  approleMount: "approle",
  skipTlsVerify: false,
  enableCache: true,
  cacheTtlSeconds: 300,
  maxCachedKeys: 1024,
  timeoutSeconds: 30,
  retryAttempts: 3,
} as const;

/** CONFIG_LIMITS are the inclusive ranges of the numeric fields. */
export const CONFIG_LIMITS = {
  cacheTtlSeconds: [1, 86_400],
  maxCachedKeys: [1, 1_000_000],
  timeoutSeconds: [1, 300],
  retryAttempts: [1, 10],
} as const;

const MAX_PATH_LENGTH = 4096;
const MAX_SECRET_LENGTH = 4096;
const MAX_ADDRESS_LENGTH = 2048;
const MOUNT_PATTERN = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;
const SECRET_PATTERN = /^[\x21-\x7e]+$/;

/**
 * resolveConfig validates a configure (`base` null) or reconfigure (`base` the
 * stored config) request and returns the complete configuration. Present fields
 * win over `base`; a body without `backend_type` keeps the stored backend; a
 * different `backend_type` starts from that backend's defaults for its own
 * fields (common fields still merge). `defaultKeyDir` is the local `key_dir`
 * default. Invalid input rejects with INVALID_ARGUMENT naming the field, never
 * echoing a value (some are secrets).
 */
export function resolveConfig(
  patch: KmsConfigPatch,
  base: KmsConfig | null,
  defaultKeyDir: string,
): KmsConfig {
  if (typeof patch !== "object" || patch === null) throw invalid("configuration must be an object");
  const requested = patch.backendType == null ? null : parseBackendType(patch.backendType);
  const type = requested ?? base?.backend.backendType;
  if (type === undefined) throw invalid("backend_type is required");
  const previous = base?.backend.backendType === type ? base.backend : null;
  // Checked, never stored: RustFS clients send it, and key files are always 0600.
  parseFilePermissions(patch.filePermissions);
  parseBoolean(patch.allowInsecureDevDefaults, "allow_insecure_dev_defaults");
  const backend =
    type === "local"
      ? resolveLocal(patch, previous as LocalBackendConfig | null, defaultKeyDir)
      : resolveVault(patch, previous as VaultBackendConfig | null);
  return {
    backend,
    defaultKeyId: resolveDefaultKeyId(patch.defaultKeyId, base?.defaultKeyId ?? null),
    enableCache:
      parseBoolean(patch.enableCache, "enable_cache") ??
      base?.enableCache ??
      CONFIG_DEFAULTS.enableCache,
    cacheTtlSeconds: mergeInteger(patch, base, "cacheTtlSeconds", "cache_ttl_seconds"),
    maxCachedKeys: mergeInteger(patch, base, "maxCachedKeys", "max_cached_keys"),
    timeoutSeconds: mergeInteger(patch, base, "timeoutSeconds", "timeout_seconds"),
    retryAttempts: mergeInteger(patch, base, "retryAttempts", "retry_attempts"),
  };
}

/**
 * requireMasterKeySource refuses a local configuration without a master key
 * source unless it says `allow_insecure_dev_defaults: true`, as RustFS refuses
 * one over its admin API: the generated development key (kept in the state
 * file) must be asked for, not fallen into. Configure over the API applies it;
 * `npm start`'s own first-start default does not.
 */
export function requireMasterKeySource(patch: KmsConfigPatch): void {
  if (patch.backendType == null || parseBackendType(patch.backendType) !== "local") return;
  if (patch.masterKey != null || patch.masterKeyFile != null || patch.masterKeyEnv != null) return;
  if (parseBoolean(patch.allowInsecureDevDefaults, "allow_insecure_dev_defaults") === true) return;
  throw invalid(
    "the local backend requires a master key (or allow_insecure_dev_defaults): " +
      "give master_key, master_key_file or master_key_env",
  );
}

/** OWNER_ONLY_MODE_BITS are the permission bits an owner-only mode may have (0700). */
const OWNER_ONLY_MODE_BITS = 0o700;

/**
 * parseFilePermissions checks RustFS's `file_permissions`: an integer mode with
 * no group, other or special bits (e.g. 384 = 0600). Key files are always
 * written 0600 whatever it says, so anything looser is refused, not ignored.
 */
function parseFilePermissions(value: unknown): void {
  if (value == null) return;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw invalid("file_permissions must be an integer file mode, e.g. 384 (0600)");
  }
  if ((value & ~OWNER_ONLY_MODE_BITS) !== 0) {
    throw invalid(
      "file_permissions must be owner-only (no group or other bits), e.g. 384 (0600); " +
        "key files are always written 0600",
    );
  }
}

/** parseBackendType maps the seed's and RustFS's spellings of `backend_type` to a BackendType. */
export function parseBackendType(value: unknown): BackendType {
  // hasOwn, so that "toString" and friends are not backend types.
  if (typeof value === "string" && KV2_ONLY_SPELLINGS.includes(value)) {
    throw invalid(
      `backend_type ${value} (RustFS's KV-only Vault mode, key material stored in KV) is not supported: ` +
        "use vault (VaultTransit: material in Vault Transit, metadata in KV v2) or local",
    );
  }
  if (typeof value !== "string" || !Object.hasOwn(BACKEND_SPELLINGS, value)) {
    throw invalid("backend_type must be local or vault");
  }
  return BACKEND_SPELLINGS[value] as BackendType;
}

function resolveLocal(
  patch: KmsConfigPatch,
  previous: LocalBackendConfig | null,
  defaultKeyDir: string,
): LocalBackendConfig {
  rejectForeignFields(patch, VAULT_FIELDS, "local");
  return {
    backendType: "local",
    keyDir: patch.keyDir == null ? (previous?.keyDir ?? defaultKeyDir) : parseKeyDir(patch.keyDir),
    ...resolveMasterKeySource(patch, previous),
  };
}

const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,255}$/;

/**
 * resolveMasterKeySource picks the one master key source of a local
 * configuration: `master_key` (kept in the state file), `master_key_file` or
 * `master_key_env` (only the path or the variable's name is kept; the key is
 * read at every start). A patch naming one replaces whichever the stored
 * configuration had; naming two is refused.
 */
function resolveMasterKeySource(
  patch: KmsConfigPatch,
  previous: LocalBackendConfig | null,
): Pick<LocalBackendConfig, "masterKey" | "masterKeyFile" | "masterKeyEnv"> {
  const given = [patch.masterKey, patch.masterKeyFile, patch.masterKeyEnv].filter((v) => v != null);
  if (given.length > 1) {
    throw invalid("give at most one of master_key, master_key_file, master_key_env");
  }
  // The resolved config names only the source in use, so a stored config of
  // one source carries no leftover field of another.
  if (patch.masterKey != null) {
    return { masterKey: parseSecret(patch.masterKey, "master_key", /^[^\0]+$/) };
  }
  if (patch.masterKeyFile != null) {
    return {
      masterKey: null,
      masterKeyFile: parseAbsolutePath(patch.masterKeyFile, "master_key_file"),
    };
  }
  if (patch.masterKeyEnv != null) {
    if (typeof patch.masterKeyEnv !== "string" || !ENV_NAME_PATTERN.test(patch.masterKeyEnv)) {
      throw invalid("master_key_env must be an environment variable name ([A-Za-z_][A-Za-z0-9_]*)");
    }
    return { masterKey: null, masterKeyEnv: patch.masterKeyEnv };
  }
  if (previous?.masterKeyFile != null)
    return { masterKey: null, masterKeyFile: previous.masterKeyFile };
  if (previous?.masterKeyEnv != null)
    return { masterKey: null, masterKeyEnv: previous.masterKeyEnv };
  return { masterKey: previous?.masterKey ?? null };
}

function resolveVault(
  patch: KmsConfigPatch,
  previous: VaultBackendConfig | null,
): VaultBackendConfig {
  rejectForeignFields(patch, LOCAL_FIELDS, "vault");
  const address = patch.address == null ? previous?.address : parseAddress(patch.address);
  if (address === undefined) throw invalid("address is required for the vault backend");
  const authMethod =
    patch.authMethod == null ? previous?.authMethod : parseAuthMethod(patch.authMethod);
  if (authMethod === undefined) throw invalid("auth_method is required for the vault backend");
  return {
    backendType: "vault",
    address,
    authMethod,
    namespace:
      patch.namespace == null
        ? (previous?.namespace ?? null)
        : patch.namespace === ""
          ? null
          : parseMount(patch.namespace, "namespace"),
    mountPath:
      patch.mountPath == null
        ? (previous?.mountPath ?? CONFIG_DEFAULTS.mountPath)
        : parseMount(patch.mountPath, "mount_path"),
    kvMount:
      patch.kvMount == null
        ? (previous?.kvMount ?? CONFIG_DEFAULTS.kvMount)
        : parseMount(patch.kvMount, "kv_mount"),
    keyPathPrefix:
      patch.keyPathPrefix == null
        ? (previous?.keyPathPrefix ?? CONFIG_DEFAULTS.keyPathPrefix)
        : parseMount(patch.keyPathPrefix, "key_path_prefix"),
    skipTlsVerify:
      parseBoolean(patch.skipTlsVerify, "skip_tls_verify") ??
      previous?.skipTlsVerify ??
      CONFIG_DEFAULTS.skipTlsVerify,
    caCertPath:
      patch.caCertPath == null
        ? (previous?.caCertPath ?? null)
        : patch.caCertPath === ""
          ? null
          : parseAbsolutePath(patch.caCertPath, "ca_cert_path"),
  };
}

function rejectForeignFields(
  patch: KmsConfigPatch,
  fields: readonly (readonly [keyof KmsConfigPatch, string])[],
  backend: BackendType,
): void {
  for (const [field, name] of fields) {
    if (patch[field] != null) throw invalid(`${name} does not apply to the ${backend} backend`);
  }
}

function resolveDefaultKeyId(value: unknown, previous: string | null): string | null {
  if (value == null) return previous;
  // An empty string clears it: proto3 and JSON clients have no other way to say "none".
  if (value === "") return null;
  return parseKeyId(value, "default_key_id");
}

function parseAuthMethod(value: unknown): VaultBackendConfig["authMethod"] {
  if (typeof value !== "object" || value === null) {
    throw invalid("auth_method must be {token} or {approle}");
  }
  const { token, approle } = value as { token?: unknown; approle?: unknown };
  if ((token == null) === (approle == null)) {
    throw invalid("auth_method must have exactly one of token, approle");
  }
  if (token != null) return { token: parseSecret(token, "auth_method.token", SECRET_PATTERN) };
  if (typeof approle !== "object" || approle === null) {
    throw invalid("auth_method.approle must be an object");
  }
  const { roleId, secretId, mount } = approle as {
    roleId?: unknown;
    secretId?: unknown;
    mount?: unknown;
  };
  return {
    approle: {
      roleId: parseSecret(roleId, "auth_method.approle.role_id", SECRET_PATTERN),
      secretId: parseSecret(secretId, "auth_method.approle.secret_id", SECRET_PATTERN),
      mount:
        mount == null || mount === ""
          ? CONFIG_DEFAULTS.approleMount
          : parseMount(mount, "auth_method.approle.mount"),
    },
  };
}

function parseAddress(value: unknown): string {
  const message = "address must be an http or https URL without credentials, query or fragment";
  if (typeof value !== "string" || value.length > MAX_ADDRESS_LENGTH) throw invalid(message);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(message);
  }
  if (
    (url.protocol !== "http:" && url.protocol !== "https:") ||
    url.username !== "" ||
    url.password !== "" ||
    url.search !== "" ||
    url.hash !== ""
  ) {
    throw invalid(message);
  }
  return value;
}

function parseSecret(value: unknown, field: string, pattern: RegExp): string {
  if (typeof value !== "string" || value.length === 0 || value.length > MAX_SECRET_LENGTH) {
    throw invalid(`${field} must be a non-empty string of at most ${MAX_SECRET_LENGTH} characters`);
  }
  if (!pattern.test(value)) throw invalid(`${field} contains characters that are not allowed`);
  return value;
}

function parseMount(value: unknown, field: string): string {
  if (typeof value !== "string" || value.length > 256 || !MOUNT_PATTERN.test(value)) {
    throw invalid(`${field} must be a path of A-Z a-z 0-9 . _ - segments separated by /`);
  }
  return value;
}

function parseAbsolutePath(value: unknown, field: string): string {
  if (
    typeof value !== "string" ||
    value.length > MAX_PATH_LENGTH ||
    value.includes("\0") ||
    !(value.startsWith("/") || /^[A-Za-z]:[\\/]/.test(value))
  ) {
    throw invalid(`${field} must be an absolute path`);
  }
  return value;
}

/**
 * parseKeyDir accepts an absolute path outside the kernel's virtual file
 * systems and returns it with `.`, `..` and repeated slashes resolved, so the
 * check cannot be dodged with `/tmp/../proc`. Whether it is (or can become) a
 * directory is the backend's to say, at open.
 */
function parseKeyDir(value: unknown): string {
  const path = parseAbsolutePath(value, "key_dir");
  if (!path.startsWith("/")) return path;
  const normalized = normalizePosixPath(path);
  if (isUnderSystemRoot(normalized)) {
    throw invalid(`key_dir must not be under ${SYSTEM_DIRECTORY_ROOTS.join(", ")}`);
  }
  return normalized;
}

/** normalizePosixPath resolves `.`, `..` and empty segments of an absolute POSIX path (no node:path in the engine). */
function normalizePosixPath(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") segments.pop();
    else segments.push(segment);
  }
  return `/${segments.join("/")}`;
}

function parseBoolean(value: unknown, field: string): boolean | undefined {
  if (value == null) return undefined;
  if (typeof value !== "boolean") throw invalid(`${field} must be a boolean`);
  return value;
}

/**
 * mergeInteger resolves one bounded integer field (`name` is its API spelling):
 * the patch's value checked against CONFIG_LIMITS, else the stored one, else
 * the default. One key picks all three, so they cannot drift apart.
 */
function mergeInteger(
  patch: KmsConfigPatch,
  base: KmsConfig | null,
  field: keyof typeof CONFIG_LIMITS,
  name: string,
): number {
  const value: unknown = patch[field];
  if (value == null) return base?.[field] ?? CONFIG_DEFAULTS[field];
  const [min, max] = CONFIG_LIMITS[field];
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(`${name} must be an integer between ${min} and ${max}`);
  }
  return value;
}

function invalid(message: string): KmsError {
  return new KmsError("INVALID_ARGUMENT", message);
}
