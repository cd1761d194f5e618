import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { AccessEntry } from "./access-log.js";

/** CacheStats are the engine cache's counters and size, read at scrape time. */
export interface CacheStats {
  hits: number;
  misses: number;
  evictions: number;
  entries: number;
}

/** GatewayMetricsOptions say which label values are allowed; any other becomes `other`. */
export interface GatewayMetricsOptions {
  /** Every `package.Service/Method` the gateway serves. */
  rpcNames: readonly string[];
  /** Every reason the SigV4 verifier can give. */
  authFailureReasons: readonly string[];
  /** Read the cache's figures when scraped; absent while nothing is running. */
  cacheStats?: () => Promise<CacheStats | null>;
}

/**
 * GatewayMetrics is the Prometheus view of the gateway. Every label value comes
 * from a closed set (protocols, known RPC names, HTTP statuses, RPC code names,
 * verifier reasons), so no label carries a key id, an identity or anything else a
 * client chose, and a client cannot grow the number of series.
 */
export interface GatewayMetrics {
  /** recordRequest counts one finished request, from the same entry as its access line. */
  recordRequest(entry: AccessEntry): void;
  /** render returns the Prometheus text exposition of every metric. */
  render(): Promise<{ contentType: string; body: string }>;
}

const LATENCY_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];
const PROTOCOLS = new Set(["rest", "connect", "grpc", "grpc-web", "health", "reflection", "other"]);
const CODES = new Set([
  "ok",
  "canceled",
  "unknown",
  "invalid_argument",
  "deadline_exceeded",
  "not_found",
  "already_exists",
  "permission_denied",
  "resource_exhausted",
  "failed_precondition",
  "aborted",
  "out_of_range",
  "unimplemented",
  "internal",
  "unavailable",
  "data_loss",
  "unauthenticated",
]);

/** createGatewayMetrics registers the gateway's metrics and Node's process metrics in a registry of their own. */
export function createGatewayMetrics(options: GatewayMetricsOptions): GatewayMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const rpcNames = new Set(options.rpcNames);
  const reasons = new Set(options.authFailureReasons);
  const labels = ["protocol", "rpc", "status", "code"] as const;
  const requests = new Counter({
    name: "kms_gateway_requests_total",
    help: "Requests answered, by protocol, RPC, HTTP status and RPC code.",
    labelNames: labels,
    registers: [registry],
  });
  const latency = new Histogram({
    name: "kms_gateway_request_duration_seconds",
    help: "Time from a request's headers to its last byte, by protocol and RPC.",
    labelNames: ["protocol", "rpc"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const authFailures = new Counter({
    name: "kms_gateway_auth_failures_total",
    help: "Requests refused by SigV4 verification, by reason.",
    labelNames: ["reason"] as const,
    registers: [registry],
  });
  const cacheGauges = (["hits", "misses", "evictions", "entries"] as const).map(
    (field) =>
      [
        field,
        new Gauge({
          name: `kms_gateway_cache_${field}`,
          help:
            field === "entries"
              ? "Entries in the key cache."
              : `Key cache ${field} since the backend started (a counter that restarts with it).`,
          registers: [registry],
        }),
      ] as const,
  );

  return {
    recordRequest(entry) {
      const protocol = PROTOCOLS.has(entry.protocol) ? entry.protocol : "other";
      const rpc =
        entry.rpc !== null && rpcNames.has(entry.rpc)
          ? entry.rpc
          : entry.rpc === null
            ? "none"
            : "other";
      const status =
        Number.isInteger(entry.status) && entry.status >= 0 && entry.status < 600
          ? String(entry.status)
          : "0";
      const code = CODES.has(entry.code) ? entry.code : "unknown";
      requests.inc({ protocol, rpc, status, code });
      latency.observe({ protocol, rpc }, entry.ms / 1000);
      if (entry.authError !== undefined) {
        authFailures.inc({ reason: reasons.has(entry.authError) ? entry.authError : "other" });
      }
    },
    async render() {
      const stats = options.cacheStats ? await options.cacheStats().catch(() => null) : null;
      for (const [field, gauge] of cacheGauges) {
        if (stats) gauge.set(stats[field]);
        else gauge.reset();
      }
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
