import { readFileSync } from "node:fs";
import { createStaticCredentialStore, rootCredentialsFromEnv } from "./auth/credential-store.js";
import { createRootIdentity } from "./auth/identity.js";
import { type CliOptions, cliUsage, parseCliOptions } from "./cli-options.js";
import type { KmsConfigPatch, KmsEngine } from "./engine/types.js";
import { createGateway } from "./server/gateway.js";
import { createLogger, type Logger } from "./server/logger.js";

/**
 * The gateway's entry point: flags and environment → gateway → listening,
 * and a clean shutdown on SIGINT/SIGTERM (in-flight requests finish, files are
 * closed, exit code 0).
 */
async function main(): Promise<void> {
  const log = createLogger();
  let options: CliOptions;
  try {
    options = parseCliOptions(process.argv.slice(2), process.env);
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
  const gateway = await createGateway({
    dataDir: options.dataDir,
    credentials: createStaticCredentialStore([
      { identity: createRootIdentity(root.accessKey), secretKey: root.secretKey },
    ]),
    log,
    bodyTimeoutMs: options.bodyTimeoutMs,
    preauthBodyBudgetBytes: options.preauthBodyBudget,
    tls:
      options.tlsCert !== null && options.tlsKey !== null
        ? { cert: readFileSync(options.tlsCert), key: readFileSync(options.tlsKey) }
        : undefined,
  });
  await configureOnFirstStart(gateway.engine, options, log);

  const address = await gateway.listen(options.host, options.port);
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `${options.tlsCert ? "https" : "http"}://${host}:${address.port}`;
  log("info", "listening", { url, dataDir: options.dataDir });

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) {
      log("warn", "second signal: exiting at once", { signal });
      process.exit(1);
    }
    closing = true;
    log("info", "shutting down", { signal });
    gateway.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log("error", "shutdown failed", { cause: err });
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
}

/**
 * configureOnFirstStart configures and starts the chosen backend when nothing
 * was stored by an earlier run, so a newcomer can sign a request at once.
 * Stored state always wins over these defaults.
 */
async function configureOnFirstStart(
  engine: KmsEngine,
  options: CliOptions,
  log: Logger,
): Promise<void> {
  if (options.kmsBackend === "none" || (await engine.status()).status !== "NotConfigured") {
    return;
  }
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
}

main().catch((err: unknown) => {
  process.stderr.write(`kms-gateway failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
