#!/usr/bin/env node
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import {
  type CredentialStore,
  createStaticCredentialStore,
  createSwappableCredentialStore,
  rootCredentialsFromEnv,
  type StaticCredential,
} from "./auth/credential-store.js";
import { createRootIdentity } from "./auth/identity.js";
import { createReplayCache } from "./auth/replay-cache.js";
import { isClientInvocation, runClientCli } from "./cli/client-cli.js";
import { type CliOptions, cliUsage, parseCliOptions } from "./cli-options.js";
import { isKmsError } from "./engine/errors.js";
import type { KmsConfigPatch, KmsEngine } from "./engine/types.js";
import { type AuditLog, createFileAuditLog, createStreamAuditLog } from "./server/audit-log.js";
import { createGateway } from "./server/gateway.js";
import {
  type IdentitiesWatcher,
  loadCredentials,
  watchIdentities,
} from "./server/identities-watcher.js";
import { createLogger, type Logger } from "./server/logger.js";
import { resolveMetricsServing } from "./server/metrics-settings.js";
import {
  clientCommand,
  firstCommand,
  ignoredSettings,
  startupBanner,
} from "./server/startup-banner.js";
import { holdStartupKeyDir, openDataDir } from "./server/startup-dirs.js";

/**
 * The gateway's entry point: flags and environment → data dir (usable, 0700,
 * locked) → gateway → port bound → first-start configuration → listening, and
 * a clean shutdown on SIGINT/SIGTERM (in-flight requests finish, files are
 * closed, exit code 0; past the drain deadline it exits 1 anyway). Any start-up
 * failure is one JSON log line and exit code 1, before anything listens.
 */
async function serve(argv: string[]): Promise<void> {
  const log = createLogger();
  let options: CliOptions;
  try {
    options = parseCliOptions(argv, process.env);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${cliUsage}`);
    process.exit(2);
  }
  if (options.help) {
    process.stdout.write(cliUsage);
    return;
  }

  const root = rootCredentialsFromEnv(process.env);
  if (root.isDefault) {
    log(
      "warn",
      "RUSTFS_ACCESS_KEY / RUSTFS_SECRET_KEY are not set: using the default root credentials rustfsadmin / rustfsadmin; set your own before exposing this gateway",
    );
  }
  // The data dir first: a second process on it, or a data dir that cannot be
  // used, must stop here, before any port or file is touched.
  await openDataDir(options.dataDir, log);
  const keyDirHold = await holdStartupKeyDir(
    options.dataDir,
    options.kmsBackend === "local" ? (options.keyDir ?? join(options.dataDir, "keys")) : null,
  );
  const rootCredential: StaticCredential = {
    identity: createRootIdentity(root.accessKey),
    secretKey: root.secretKey,
  };
  const { credentials, identities } = await openIdentities(options, rootCredential, log);
  const audit = await openAuditLog(options, log);
  const gatewayMetrics = await resolveMetricsServing(options, process.env);
  const gateway = await createGateway({
    dataDir: options.dataDir,
    credentials,
    log,
    audit,
    auditFailOpen: options.authz.auditFailOpen,
    replays: options.authz.rejectReplays
      ? createReplayCache({ windowMs: REPLAY_WINDOW_MS, maxEntries: REPLAY_MAX_ENTRIES })
      : undefined,
    bodyTimeoutMs: options.bodyTimeoutMs,
    preauthBodyBudgetBytes: options.preauthBodyBudget,
    tls:
      options.tlsCert !== null && options.tlsKey !== null
        ? { cert: readFileSync(options.tlsCert), key: readFileSync(options.tlsKey) }
        : undefined,
    // How long close() lets requests run; shutdown() below exits once it is
    // past (and a moment to close files), whatever the gateway does.
    drainTimeoutMs: options.drainTimeoutMs,
    corsOrigins: options.corsOrigins,
    allowImmediateDeletion: options.allowImmediateDeletion,
    awsAccountId: options.awsAccountId,
    metrics: gatewayMetrics,
  });
  // Bound before the first-start configuration writes the state file: a port
  // in use must leave no trace behind.
  const address = await gateway.listen(options.host, options.port);
  const metricsAddress = options.metricsAddress
    ? await gateway.listenMetrics(options.metricsAddress.host, options.metricsAddress.port)
    : null;
  const storedBefore = await configureOnFirstStart(gateway.engine, options, log);
  // The engine holds the key_dir itself now, if it opened it.
  await keyDirHold?.release();

  const host = hostOf(address);
  const url = `${options.tlsCert ? "https" : "http"}://${host}:${address.port}`;
  const metricsUrl = metricsAddress
    ? `http://${hostOf(metricsAddress)}:${metricsAddress.port}/metrics`
    : null;
  log("info", "listening", {
    url,
    dataDir: options.dataDir,
    ...(metricsUrl ? { metricsUrl } : {}),
  });

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) {
      log("warn", "second signal: exiting at once", { signal });
      process.exit(1);
    }
    closing = true;
    log("info", "shutting down", { signal, drainTimeoutMs: options.drainTimeoutMs });
    // Whatever hangs (a request, a backend), the process exits after the
    // drain deadline and a moment to close files.
    setTimeout(() => {
      log("warn", "drain deadline passed: exiting with work still in flight", {
        drainTimeoutMs: options.drainTimeoutMs,
      });
      process.exit(1);
    }, options.drainTimeoutMs + CLOSE_GRACE_MS);
    gateway.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log("error", "shutdown failed", { cause: err });
        process.exit(1);
      },
    );
  };
  if (identities !== undefined) {
    process.on("SIGHUP", () => void identities.reload("SIGHUP"));
  }
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  // After the signal handlers: a stop asked for while the banner is gathered still drains.
  announce(gateway.engine, {
    url,
    options,
    storedBefore,
    metrics:
      metricsUrl ?? (gatewayMetrics?.token ? "on this port at /metrics (bearer token)" : null),
    defaultCredentials: root.accessKey === "rustfsadmin" && root.secretKey === "rustfsadmin",
    log,
  }).catch((err: unknown) => log("warn", "start-up banner failed", { cause: err }));
}

/** hostOf writes a bound address's host for a URL (IPv6 in brackets). */
function hostOf(address: AddressInfo): string {
  return address.family === "IPv6" ? `[${address.address}]` : address.address;
}

/**
 * REPLAY_WINDOW_MS is how long `--reject-replays` remembers a signature: X-Amz-Date
 * may be 15 minutes either side of the server clock, so a signature stays usable
 * for at most 30 minutes after it is first seen (presigned URLs are held to 15
 * minutes in this mode).
 */
const REPLAY_WINDOW_MS = 30 * 60_000;
/** REPLAY_MAX_ENTRIES bounds the replay cache (about 100 MB at most); when full, new requests get 503. */
const REPLAY_MAX_ENTRIES = 1_000_000;
/** The audit log rotates at this size and keeps this many rotated files. */
const AUDIT_MAX_BYTES = 100 * 1024 * 1024;
const AUDIT_KEEP = 5;

/**
 * openIdentities returns the credentials the edge checks: root alone, or root and
 * the identities file (read and checked now: a bad file stops the start), kept in
 * step with the file by a watcher.
 */
async function openIdentities(
  options: CliOptions,
  root: StaticCredential,
  log: Logger,
): Promise<{ credentials: CredentialStore; identities?: IdentitiesWatcher }> {
  const path = options.authz.identitiesFile;
  if (path === null) return { credentials: createStaticCredentialStore([root]) };
  const loaded = await loadCredentials(path, process.env, root);
  const store = createSwappableCredentialStore(loaded.store);
  log("info", "identities loaded", { path, identities: loaded.count });
  return {
    credentials: store,
    identities: watchIdentities({ path, env: process.env, root, store, log }),
  };
}

/** openAuditLog opens the audit trail the options name (a file, or stdout for `-`). */
async function openAuditLog(options: CliOptions, log: Logger): Promise<AuditLog | undefined> {
  const path = options.authz.auditLog;
  if (path === null) {
    if (options.authz.identitiesFile !== null) {
      log("warn", "no --audit-log: calls by the identities are not recorded");
    }
    return undefined;
  }
  if (path === "-") return createStreamAuditLog(process.stdout);
  return createFileAuditLog({ path, maxBytes: AUDIT_MAX_BYTES, keep: AUDIT_KEEP });
}

/** CLOSE_GRACE_MS is what shutdown allows, after the drain deadline, to close the backend and files. */
const CLOSE_GRACE_MS = 1000;

/**
 * startupFailure is the one line a failed start prints: a KmsError's message
 * is already written for the operator; a bind error names the address.
 */
function startupFailure(err: unknown): string {
  if (isKmsError(err)) return err.message;
  const error = err as NodeJS.ErrnoException & { address?: string; port?: number };
  if (error?.syscall === "listen" || error?.code === "EADDRINUSE") {
    const where = error.address === undefined ? "" : ` ${error.address}:${error.port}`;
    if (error.code === "EADDRINUSE") return `address${where} is already in use (EADDRINUSE)`;
    if (error.code === "EACCES") return `no permission to listen on${where} (EACCES)`;
    if (error.code === "EADDRNOTAVAIL")
      return `address${where} is not on this machine (EADDRNOTAVAIL)`;
  }
  return err instanceof Error ? err.message : String(err);
}

/**
 * announce logs the start-up facts (one "ready" line: where, which backend and status,
 * the data and key dirs, settings a stored configuration overrode, a first command) and,
 * on a terminal, prints them as a banner too. None of them is a secret.
 */
async function announce(
  engine: KmsEngine,
  facts: {
    url: string;
    options: CliOptions;
    storedBefore: { backend: string | null } | null;
    metrics: string | null;
    defaultCredentials: boolean;
    log: Logger;
  },
): Promise<void> {
  const status = await engine.status();
  const backend = status.configSummary?.backendSummary;
  const ready = {
    url: facts.url,
    backend: status.backendType,
    status: status.status,
    dataDir: facts.options.dataDir,
    keyDir: backend?.backendType === "local" ? backend.keyDir : null,
    metrics: facts.metrics,
    ignored: ignoredSettings(facts.options, facts.storedBefore),
    firstCommand: firstCommand({
      client: clientCommand(process.argv[1]),
      url: facts.url,
      defaultCredentials: facts.defaultCredentials,
    }),
  };
  facts.log("info", "ready", ready);
  if (process.stderr.isTTY) process.stderr.write(startupBanner(ready));
}

/**
 * configureOnFirstStart configures and starts the chosen backend when nothing
 * was stored by an earlier run, so a newcomer can sign a request at once.
 * Stored state always wins over these defaults. It returns the stored
 * configuration's backend when there was one (its settings were not applied).
 */
async function configureOnFirstStart(
  engine: KmsEngine,
  options: CliOptions,
  log: Logger,
): Promise<{ backend: string | null } | null> {
  const before = await engine.status();
  if (before.status !== "NotConfigured") return { backend: before.backendType };
  if (options.kmsBackend === "none") return null;
  const patch: KmsConfigPatch =
    options.kmsBackend === "local"
      ? { backendType: "local" }
      : {
          backendType: "vault",
          address: options.vaultAddress ?? "",
          authMethod: { token: options.vaultToken ?? "" },
        };
  if (options.keyDir !== null) patch.keyDir = options.keyDir;
  if (options.localMasterKey !== null) patch.masterKey = options.localMasterKey;
  if (options.defaultKeyId !== null) patch.defaultKeyId = options.defaultKeyId;
  try {
    await engine.configure(patch);
    const started = await engine.start();
    log("info", "configured on first start", {
      backend: options.kmsBackend,
      status: started.status,
    });
  } catch (err) {
    log("error", "first-start configuration failed; the service stays as it is", { cause: err });
  }
  return null;
}

/**
 * The bin is a client when its first word is a client command (`kms-gateway key
 * list`), and the server otherwise: `kms-gateway serve [flags]`, or flags alone as
 * `npm start` runs it.
 */
const argv = process.argv.slice(2);
if (isClientInvocation(argv)) {
  // `kms-gateway key list | head`: a reader that stops early is not an error.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw err;
  });
  runClientCli(argv).then((code) => {
    process.exitCode = code;
  });
} else {
  serve(argv[0] === "serve" ? argv.slice(1) : argv).catch((err: unknown) => {
    // One JSON line like every other, so log collectors see why it stopped.
    createLogger()("error", `kms-gateway cannot start: ${startupFailure(err)}`);
    process.exit(1);
  });
}
