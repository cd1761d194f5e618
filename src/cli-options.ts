import { resolve } from "node:path";
import { parseArgs } from "node:util";

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
  /** Where `/metrics` gets a listener of its own; null = on the main listener, if a token is set. */
  metricsAddress: { host: string; port: number } | null;
  /** A file holding the bearer token `/metrics` asks for (KMS_GATEWAY_METRICS_TOKEN holds it inline). */
  metricsTokenFile: string | null;
  help: boolean;
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

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}
