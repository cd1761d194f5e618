import { basename } from "node:path";

/** StartupFacts are what the start-up banner reports; none of them is a secret. */
export interface StartupFacts {
  url: string;
  /** The active backend, or null while nothing is configured. */
  backend: string | null;
  /** The KMS lifecycle status: NotConfigured, Configured, Running or Error. */
  status: string;
  dataDir: string;
  /** The local backend's key directory, or null for other backends. */
  keyDir: string | null;
  /** Where metrics are served: a URL, "main port (bearer token)", or null when off. */
  metrics: string | null;
  /** Names of start-up settings ignored because a stored configuration wins. */
  ignored: string[];
  /** A command to paste to try the gateway. */
  firstCommand: string;
}

/**
 * FIRST_START_SETTINGS names the environment variables (and the CliOptions field they set)
 * that apply only on a first start, when no configuration is stored yet.
 */
export const FIRST_START_SETTINGS = [
  ["keyDir", "RUSTFS_KMS_KEY_DIR"],
  ["localMasterKey", "RUSTFS_KMS_LOCAL_MASTER_KEY"],
  ["defaultKeyId", "RUSTFS_KMS_DEFAULT_KEY_ID"],
  ["vaultAddress", "RUSTFS_KMS_VAULT_ADDRESS"],
  ["vaultToken", "RUSTFS_KMS_VAULT_TOKEN"],
] as const;

/**
 * ignoredSettings lists the first-start settings that were given but not applied, because
 * a configuration was already stored: by name only, never by value (a master key or a
 * Vault token is among them). `--kms-backend` counts when it names another backend.
 */
export function ignoredSettings(
  given: Partial<Record<(typeof FIRST_START_SETTINGS)[number][0], string | null>> & {
    kmsBackend: string;
  },
  stored: { backend: string | null } | null,
): string[] {
  if (stored === null) return [];
  const names: string[] = FIRST_START_SETTINGS.filter(
    ([field]) => given[field] !== null && given[field] !== undefined,
  ).map(([, name]) => name);
  if (
    given.kmsBackend !== "none" &&
    stored.backend !== null &&
    given.kmsBackend !== stored.backend
  ) {
    names.unshift(`--kms-backend ${given.kmsBackend} (stored: ${stored.backend})`);
  }
  return names;
}

/**
 * clientCommand is how the client CLI is run from where this process was started: the
 * installed bin, `npm run -s kms --` in a clone under tsx, or node and the built file.
 */
export function clientCommand(script: string | undefined): string {
  if (script === undefined) return "kms-gateway";
  if (basename(script) === "kms-gateway") return "kms-gateway";
  if (script.endsWith(".ts")) return "npm run -s kms --";
  return `node ${script}`;
}

/**
 * firstCommand is a command that works as pasted: the endpoint named, and the default
 * credentials inline only when the server itself runs on them (they are public and the
 * server has warned about them); otherwise the client reads RUSTFS_ACCESS_KEY and
 * RUSTFS_SECRET_KEY from the environment, as the server did.
 */
export function firstCommand(options: {
  client: string;
  url: string;
  defaultCredentials: boolean;
}): string {
  const credentials = options.defaultCredentials
    ? "RUSTFS_ACCESS_KEY=rustfsadmin RUSTFS_SECRET_KEY=rustfsadmin "
    : "";
  return `${credentials}KMS_ENDPOINT=${options.url} ${options.client} key create --name demo-key`;
}

/** startupBanner renders the facts for a person at a terminal. */
export function startupBanner(facts: StartupFacts): string {
  const rows: [string, string][] = [
    ["listening", `${facts.url}  (REST, Connect, gRPC, gRPC-Web)`],
    ["KMS", facts.backend === null ? facts.status : `${facts.backend} backend, ${facts.status}`],
    ["data dir", facts.dataDir],
  ];
  if (facts.keyDir !== null) rows.push(["key dir", facts.keyDir]);
  rows.push(["metrics", facts.metrics ?? "off (see --metrics-address, KMS_GATEWAY_METRICS_TOKEN)"]);
  rows.push(["API", `${facts.url}/openapi.json`]);
  if (facts.ignored.length > 0) {
    rows.push(["ignored", `${facts.ignored.join(", ")}: a stored configuration wins`]);
  }
  rows.push(["try", facts.firstCommand]);
  const width = Math.max(...rows.map(([label]) => label.length));
  return `\nkms-gateway is ready\n${rows.map(([l, v]) => `  ${l.padEnd(width)}  ${v}`).join("\n")}\n\n`;
}
