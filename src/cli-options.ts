import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { parseCorsOrigin } from "./rest/cors.js";

/** CliOptions is the gateway's start-up configuration, from flags and environment. */
export interface CliOptions {
  host: string;
  port: number;
  dataDir: string;
  /** The backend configured on first start; `none` leaves the service NotConfigured. */
  kmsBackend: "local" | "vault" | "none";
  tlsCert: string | null;
  tlsKey: string | null;
  keyDir: string | null;
  localMasterKey: string | null;
  vaultAddress: string | null;
  vaultToken: string | null;
  defaultKeyId: string | null;
  /** On SIGINT/SIGTERM, how long in-flight requests may run before the process exits anyway. */
  drainTimeoutMs: number;
  /** Deadline for a request's whole body to arrive (ms). */
  bodyTimeoutMs: number;
  /** Bytes buffered at once for requests whose signature is not yet verified. */
  preauthBodyBudget: number;
  /** Origins whose browser consoles may call the admin API (CORS); empty = CORS off. */
  corsOrigins: string[];
  /** Whether key deletion may be immediate (`force_immediate` with `confirm_key_id`). */
  allowImmediateDeletion: boolean;
  /** The account of the AWS KMS API's key ARNs (12 digits). */
  awsAccountId: string;
  /** Authorization and audit (issue 9): see docs/identities.md. */
  authz: AuthzOptions;
  /** Where `/metrics` gets a listener of its own; null = on the main listener, if a token is set. */
  metricsAddress: { host: string; port: number } | null;
  /** A file holding the bearer token `/metrics` asks for (KMS_GATEWAY_METRICS_TOKEN holds it inline). */
  metricsTokenFile: string | null;
  help: boolean;
}

/** AuthzOptions are the identities file, the audit trail and replay rejection. */
export interface AuthzOptions {
  /** The identities file (further identities and their policies), or null for root alone. */
  identitiesFile: string | null;
  /** The audit log file, `-` for stdout, or null for no audit trail. */
  auditLog: string | null;
  /** Answer audited calls whose line cannot be written instead of failing them with 500. */
  auditFailOpen: boolean;
  /** Refuse a second use of a signature within its window (401). */
  rejectReplays: boolean;
}

/** DRAIN_TIMEOUT_MS is the default of `--drain-timeout-ms`. */
export const DRAIN_TIMEOUT_MS = 10_000;
/** MAX_DRAIN_TIMEOUT_MS bounds `--drain-timeout-ms` (one hour). */
export const MAX_DRAIN_TIMEOUT_MS = 3_600_000;

/** cliUsage is the text of `--help`; the README repeats it. */
export const cliUsage = `Usage: npm start -- [options]
       kms-gateway serve [options]
       kms-gateway <command> ...   (a client: status, key list, datakey generate…;
                                    \`kms-gateway help\` lists them)

Options (each also read from the environment variable in brackets; flags win):
  --address HOST:PORT   listen address [KMS_GATEWAY_ADDRESS] (default 127.0.0.1:9000)
  --data-dir DIR        state and default key directory [KMS_GATEWAY_DATA_DIR] (default ./data)
  --kms-backend NAME    backend configured on first start: local | vault | none
                        [RUSTFS_KMS_BACKEND] (default local)
  --tls-cert FILE       PEM certificate: serve TLS with ALPN h2/http1.1 [KMS_GATEWAY_TLS_CERT]
  --tls-key FILE        PEM private key for --tls-cert [KMS_GATEWAY_TLS_KEY]
  --drain-timeout-ms MS on SIGINT/SIGTERM, how long in-flight requests may run;
                        then the process exits anyway [KMS_GATEWAY_DRAIN_TIMEOUT_MS]
                        (default 10000)
  --body-timeout-ms MS  deadline for a request body to arrive, else 408
                        [KMS_GATEWAY_BODY_TIMEOUT_MS] (default 30000)
  --preauth-body-budget BYTES
                        bytes buffered at once for bodies not yet authenticated, else 503
                        [KMS_GATEWAY_PREAUTH_BODY_BUDGET] (default 16777216)
  --cors-origin ORIGIN  let a browser console on ORIGIN (e.g. https://console.example.com)
                        call the admin API; repeatable (default: CORS off)
  --allow-immediate-deletion
                        honour force_immediate key deletion when confirm_key_id repeats
                        the key id (default: refused with 400)
  --aws-account-id ID   the 12-digit account in the AWS KMS API's key ARNs
                        [KMS_GATEWAY_AWS_ACCOUNT_ID] (default 000000000000)
  --identities FILE     further identities and their policies, JSON, mode 0600; reloaded on
                        SIGHUP and on change (docs/identities.md) [KMS_GATEWAY_IDENTITIES]
  --audit-log FILE      audit trail of key use and changes, one JSON line per call,
                        appended, fsynced, rotated at 100 MiB; "-" for stdout
                        [KMS_GATEWAY_AUDIT_LOG] (default: none)
  --audit-fail-open     answer calls whose audit line cannot be written instead of
                        failing them with 500 [KMS_GATEWAY_AUDIT_FAIL_OPEN=1]
  --reject-replays      refuse a signed request used a second time within its
                        15-minute window with 401 [KMS_GATEWAY_REJECT_REPLAYS=1]
  --metrics-address HOST:PORT
                        serve /metrics on a listener of its own [KMS_GATEWAY_METRICS_ADDRESS]
  --metrics-token-file FILE
                        bearer token /metrics asks for [KMS_GATEWAY_METRICS_TOKEN_FILE];
                        or the token itself in [KMS_GATEWAY_METRICS_TOKEN]. Without
                        --metrics-address, /metrics is on the main port only with a token
  -h, --help            show this text

First-start configuration (ignored once a configuration is stored):
  RUSTFS_KMS_KEY_DIR, RUSTFS_KMS_LOCAL_MASTER_KEY, RUSTFS_KMS_DEFAULT_KEY_ID,
  RUSTFS_KMS_VAULT_ADDRESS, RUSTFS_KMS_VAULT_TOKEN
Credentials of the root identity: RUSTFS_ACCESS_KEY, RUSTFS_SECRET_KEY
  (default rustfsadmin / rustfsadmin, with a warning)
`;

/**
 * parseCliOptions reads flags and environment variables. It throws an Error
 * with a message fit for the terminal on any invalid value.
 */
export function parseCliOptions(argv: string[], env: NodeJS.ProcessEnv): CliOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      address: { type: "string" },
      "data-dir": { type: "string" },
      "kms-backend": { type: "string" },
      "tls-cert": { type: "string" },
      "tls-key": { type: "string" },
      "drain-timeout-ms": { type: "string" },
      "body-timeout-ms": { type: "string" },
      "preauth-body-budget": { type: "string" },
      "cors-origin": { type: "string", multiple: true },
      "allow-immediate-deletion": { type: "boolean" },
      "aws-account-id": { type: "string" },
      identities: { type: "string" },
      "audit-log": { type: "string" },
      "audit-fail-open": { type: "boolean" },
      "reject-replays": { type: "boolean" },
      "metrics-address": { type: "string" },
      "metrics-token-file": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const { host, port } = parseAddress(
    values.address ?? nonEmpty(env.KMS_GATEWAY_ADDRESS) ?? "127.0.0.1:9000",
  );
  const kmsBackend = (values["kms-backend"] ?? nonEmpty(env.RUSTFS_KMS_BACKEND) ?? "local")
    .toLowerCase()
    .replace(/^vault-?transit$/, "vault");
  if (kmsBackend !== "local" && kmsBackend !== "vault" && kmsBackend !== "none") {
    throw new Error(`--kms-backend must be local, vault or none, not "${kmsBackend}"`);
  }
  const tlsCert = values["tls-cert"] ?? nonEmpty(env.KMS_GATEWAY_TLS_CERT) ?? null;
  const tlsKey = values["tls-key"] ?? nonEmpty(env.KMS_GATEWAY_TLS_KEY) ?? null;
  if ((tlsCert === null) !== (tlsKey === null)) {
    throw new Error("--tls-cert and --tls-key must be given together");
  }
  const keyDir = nonEmpty(env.RUSTFS_KMS_KEY_DIR) ?? null;
  const metricsAddress =
    values["metrics-address"] ?? nonEmpty(env.KMS_GATEWAY_METRICS_ADDRESS) ?? null;
  const metricsTokenFile =
    values["metrics-token-file"] ?? nonEmpty(env.KMS_GATEWAY_METRICS_TOKEN_FILE) ?? null;
  return {
    host,
    port,
    dataDir: resolve(values["data-dir"] ?? nonEmpty(env.KMS_GATEWAY_DATA_DIR) ?? "data"),
    kmsBackend,
    tlsCert,
    tlsKey,
    keyDir: keyDir === null ? null : resolve(keyDir),
    localMasterKey: nonEmpty(env.RUSTFS_KMS_LOCAL_MASTER_KEY) ?? null,
    vaultAddress: nonEmpty(env.RUSTFS_KMS_VAULT_ADDRESS) ?? null,
    vaultToken: nonEmpty(env.RUSTFS_KMS_VAULT_TOKEN) ?? null,
    defaultKeyId: nonEmpty(env.RUSTFS_KMS_DEFAULT_KEY_ID) ?? null,
    drainTimeoutMs: parseWholeNumber(
      "--drain-timeout-ms",
      values["drain-timeout-ms"] ?? nonEmpty(env.KMS_GATEWAY_DRAIN_TIMEOUT_MS),
      { fallback: DRAIN_TIMEOUT_MS, min: 0, max: MAX_DRAIN_TIMEOUT_MS },
    ),
    bodyTimeoutMs: parseWholeNumber(
      "--body-timeout-ms",
      values["body-timeout-ms"] ?? nonEmpty(env.KMS_GATEWAY_BODY_TIMEOUT_MS),
      { fallback: 30_000, min: 1, max: Number.MAX_SAFE_INTEGER },
    ),
    preauthBodyBudget: parseWholeNumber(
      "--preauth-body-budget",
      values["preauth-body-budget"] ?? nonEmpty(env.KMS_GATEWAY_PREAUTH_BODY_BUDGET),
      { fallback: 16 * 1024 * 1024, min: 0, max: Number.MAX_SAFE_INTEGER },
    ),
    corsOrigins: (values["cors-origin"] ?? []).map(parseCorsOrigin),
    allowImmediateDeletion: values["allow-immediate-deletion"] ?? false,
    awsAccountId: parseAwsAccountId(
      values["aws-account-id"] ?? nonEmpty(env.KMS_GATEWAY_AWS_ACCOUNT_ID) ?? "000000000000",
    ),
    authz: {
      identitiesFile: pathOrNull(values.identities ?? nonEmpty(env.KMS_GATEWAY_IDENTITIES)),
      auditLog: auditLogOf(values["audit-log"] ?? nonEmpty(env.KMS_GATEWAY_AUDIT_LOG)),
      auditFailOpen: values["audit-fail-open"] ?? env.KMS_GATEWAY_AUDIT_FAIL_OPEN === "1",
      rejectReplays: values["reject-replays"] ?? env.KMS_GATEWAY_REJECT_REPLAYS === "1",
    },
    metricsAddress:
      metricsAddress === null ? null : parseAddress(metricsAddress, "--metrics-address"),
    metricsTokenFile: metricsTokenFile === null ? null : resolve(metricsTokenFile),
    help: values.help ?? false,
  };
}

/** parseAddress splits HOST:PORT, with IPv6 hosts in brackets (`[::1]:9000`). */
function parseAddress(address: string, flag = "--address"): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(address);
  const port = Number(match?.[3]);
  if (match === null || port > 65535) {
    throw new Error(`${flag} must be HOST:PORT, not "${address}"`);
  }
  return { host: match[1] ?? (match[2] || "127.0.0.1"), port };
}

/**
 * parseWholeNumber reads a flag's whole number, written in decimal digits,
 * within `min`–`max`; `fallback` when the flag and its variable are absent.
 */
function parseWholeNumber(
  flag: string,
  text: string | undefined,
  bounds: { fallback: number; min: number; max: number },
): number {
  if (text === undefined) return bounds.fallback;
  const value = /^\d{1,16}$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= bounds.min && value <= bounds.max)) {
    throw new Error(
      `${flag} must be a whole number from ${bounds.min} to ${bounds.max}, not "${text}"`,
    );
  }
  return value;
}

/** parseAwsAccountId checks `--aws-account-id`: 12 digits, as AWS account ids are. */
function parseAwsAccountId(text: string): string {
  if (!/^\d{12}$/.test(text)) throw new Error(`--aws-account-id must be 12 digits, not "${text}"`);
  return text;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

function pathOrNull(value: string | undefined): string | null {
  return value === undefined || value === "" ? null : resolve(value);
}

/** auditLogOf keeps `-` (stdout) as it is and resolves a file path. */
function auditLogOf(value: string | undefined): string | null {
  return value === "-" ? "-" : pathOrNull(value);
}
