import { readFileSync } from "node:fs";
import {
  createKmsAdminClient,
  type KmsAdminClient,
  type KmsAdminProtocol,
} from "../client/index.js";
import { UsageError } from "./exit-codes.js";
import type { Output } from "./output.js";

/** GlobalOptions are the flags every client command takes. */
export interface GlobalOptions {
  endpoint?: string;
  accessKey?: string;
  secretKey?: string;
  protocol?: string;
  ca?: string;
  json?: boolean;
}

/** ClientContext is what a command needs: where to send, how to sign, where to print. */
export interface ClientContext {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  /** client returns the SDK client, built on first use (`sign` needs none). */
  client(): KmsAdminClient;
  out: Output;
}

/** DEFAULT_ENDPOINT is where `npm start` listens. */
export const DEFAULT_ENDPOINT = "http://127.0.0.1:9000";

/**
 * resolveClientContext reads the endpoint and credentials from the flags, then the
 * environment (`KMS_ENDPOINT`; `RUSTFS_ACCESS_KEY`/`RUSTFS_SECRET_KEY`, then
 * `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`). A secret is never printed, and there
 * is no default one: a client that guessed `rustfsadmin` would hide a misconfiguration.
 */
export function resolveClientContext(
  options: GlobalOptions,
  env: NodeJS.ProcessEnv,
  out: Output,
): ClientContext {
  const endpoint = options.endpoint ?? env.KMS_ENDPOINT ?? DEFAULT_ENDPOINT;
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new UsageError(`--endpoint: "${endpoint}" is not a URL (e.g. ${DEFAULT_ENDPOINT})`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`--endpoint: use an http:// or https:// URL, not ${url.protocol}`);
  }
  const accessKey = options.accessKey ?? (env.RUSTFS_ACCESS_KEY || env.AWS_ACCESS_KEY_ID);
  const secretKey = options.secretKey ?? (env.RUSTFS_SECRET_KEY || env.AWS_SECRET_ACCESS_KEY);
  if (!accessKey || !secretKey) {
    throw new UsageError(
      "no credentials: give --access-key and --secret-key, or set RUSTFS_ACCESS_KEY and RUSTFS_SECRET_KEY (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)",
    );
  }
  const protocol = (options.protocol ?? "connect") as KmsAdminProtocol;
  if (!["connect", "grpc", "grpc-web"].includes(protocol)) {
    throw new UsageError(`--protocol: connect, grpc or grpc-web, not "${protocol}"`);
  }
  let ca: Buffer | undefined;
  if (options.ca !== undefined) {
    try {
      ca = readFileSync(options.ca);
    } catch (error) {
      throw new UsageError(
        `--ca: cannot read ${options.ca} (${(error as NodeJS.ErrnoException).code ?? "error"})`,
      );
    }
  }
  let client: KmsAdminClient | undefined;
  return {
    endpoint: url.href.replace(/\/$/, ""),
    accessKey,
    secretKey,
    client: () => {
      client ??= createKmsAdminClient({
        endpoint: url.href,
        credentials: { accessKey, secretKey },
        protocol,
        ca,
      });
      return client;
    },
    out,
  };
}
