import { readSecretFile } from "../backends/local/read-secret-file.js";
import type { MetricsServing } from "./gateway-ops.js";

/** MIN_METRICS_TOKEN_LENGTH is the shortest bearer token accepted: 16 characters, about 96 bits in base64. */
export const MIN_METRICS_TOKEN_LENGTH = 16;
const MAX_METRICS_TOKEN_BYTES = 4096;

/**
 * resolveMetricsServing decides where `/metrics` is served from the start-up settings:
 * on `--metrics-address` (token optional), or on the main listener when a token is set
 * (from `--metrics-token-file` or KMS_GATEWAY_METRICS_TOKEN), or nowhere. It never serves
 * them unauthenticated on the main port, which faces clients. It throws an Error fit for
 * the terminal when the token is unusable; the message never contains the token.
 */
export async function resolveMetricsServing(
  settings: { metricsAddress: unknown | null; metricsTokenFile: string | null },
  env: NodeJS.ProcessEnv,
): Promise<MetricsServing | undefined> {
  let token: string | null = null;
  if (settings.metricsTokenFile !== null) {
    const bytes = await readSecretFile(settings.metricsTokenFile, MAX_METRICS_TOKEN_BYTES).catch(
      (err: NodeJS.ErrnoException) => {
        throw new Error(
          `--metrics-token-file ${settings.metricsTokenFile} cannot be read (${err.code ?? "error"})`,
        );
      },
    );
    if (bytes.byteLength > MAX_METRICS_TOKEN_BYTES) {
      throw new Error(`--metrics-token-file holds more than ${MAX_METRICS_TOKEN_BYTES} bytes`);
    }
    // A trailing newline is what `echo token > file` leaves; it is not part of the token.
    token = Buffer.from(bytes)
      .toString("utf8")
      .replace(/\r?\n$/, "");
  } else if (env.KMS_GATEWAY_METRICS_TOKEN !== undefined && env.KMS_GATEWAY_METRICS_TOKEN !== "") {
    token = env.KMS_GATEWAY_METRICS_TOKEN;
  }
  if (token !== null && !/^[\x21-\x7e]+$/.test(token)) {
    throw new Error("the metrics token must be printable ASCII without spaces");
  }
  if (token !== null && token.length < MIN_METRICS_TOKEN_LENGTH) {
    throw new Error(`the metrics token must be at least ${MIN_METRICS_TOKEN_LENGTH} characters`);
  }
  if (settings.metricsAddress === null && token === null) return undefined;
  return { token, ownListener: settings.metricsAddress !== null };
}
