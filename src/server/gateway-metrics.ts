import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { AccessEntry } from "./access-log.js";
import { authFailureCategory } from "./auth-failure-category.js";

/** CacheStats are the engine cache's counters and size, read at scrape time. */
export interface CacheStats {
  hits: number;
  misses: number;
  evictions: number;
  entries: number;
}

/** KeyCensus counts keys by state; `complete` is false when the count stopped at its cap. */
export interface KeyCensus {
  byState: Record<string, number>;
  complete: boolean;
}

/**
 * BackendObserver is what a backend reports to: the composition root wraps every backend
 * so each call's latency and failure is observed, and a backend with retries or a circuit
 * breaker (Vault) reports those through `retry` and `circuitState`. A backend takes these
 * as plain callbacks in its factory options, so it never imports this module.
 */
export interface BackendObserver {
  /** observeCall records one backend call: its duration and whether it failed. */
  observeCall(backend: string, operation: string, seconds: number, failed: boolean): void;
  /** retry counts one retried backend call. */
  retry(backend: string, operation: string): void;
  /** circuitState records the backend's circuit breaker state. */
  circuitState(backend: string, state: "closed" | "half_open" | "open"): void;
}

/** SweepOutcome is one result of the deletion sweep: a key destroyed, a key it could not check, or a whole sweep failed. */
export type SweepOutcome = "destroyed" | "key_failed" | "sweep_failed";

/** GatewayMetricsOptions say which label values are allowed and where scrape-time figures come from. */
export interface GatewayMetricsOptions {
  /** Every `package.Service/Method` the gateway serves; any other becomes `other`. */
  rpcNames: readonly string[];
  /** Read the cache's figures when scraped; absent or null while nothing is running. */
  cacheStats?: () => Promise<CacheStats | null>;
  /** Read the KMS lifecycle status when scraped. */
  kmsStatus?: () => Promise<string | null>;
  /** Count keys by state when scraped (bounded and cached by the caller). */
  keyCensus?: () => Promise<KeyCensus | null>;
}

/**
 * GatewayMetrics is the Prometheus view of the gateway. Every label value comes
 * from a closed set (protocols, known RPC names, HTTP statuses, RPC code names,
 * auth failure categories, key states, backend operation names chosen by code),
 * so no label carries a key id, an identity or anything else a client chose, and
 * a client cannot grow the number of series.
 */
export interface GatewayMetrics {
  /** recordRequest counts one finished request, from the same entry as its access line. */
  recordRequest(entry: AccessEntry): void;
  /** recordSweep counts one outcome of the deletion sweep. */
  recordSweep(outcome: SweepOutcome): void;
  /** backend is the observer every backend reports its calls, retries and circuit state to. */
  backend: BackendObserver;
  /** render returns the Prometheus text exposition of every metric. */
  render(): Promise<{ contentType: string; body: string }>;
}

const LATENCY_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];
const PROTOCOLS = new Set([
  "rest",
  "aws-json",
  "connect",
  "grpc",
  "grpc-web",
  "health",
  "reflection",
  "other",
]);
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
const SERVICE_STATUSES = ["NotConfigured", "Configured", "Running", "Error"] as const;
const KEY_STATES = ["Enabled", "Disabled", "PendingDeletion"] as const;
const CIRCUIT_STATES = { closed: 0, half_open: 1, open: 2 } as const;
/** A backend or operation name is an identifier written in code; anything else is `other`. */
const NAME = /^[a-z][a-z0-9_]{0,31}$/;
/** At most this many distinct operation names per backend; later ones count as `other`. */
const MAX_OPERATIONS = 32;

/** createGatewayMetrics registers the gateway's metrics and Node's process metrics in a registry of their own. */
export function createGatewayMetrics(options: GatewayMetricsOptions): GatewayMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const rpcNames = new Set(options.rpcNames);
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
    help: "Requests refused by SigV4 verification, by reason category.",
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
  const kmsStatus = new Gauge({
    name: "kms_gateway_kms_status",
    help: "1 for the KMS lifecycle status it is in, 0 for the others.",
    labelNames: ["status"] as const,
    registers: [registry],
  });
  const keys = new Gauge({
    name: "kms_gateway_keys",
    help: "Master keys by state (read at scrape time, cached briefly).",
    labelNames: ["state"] as const,
    registers: [registry],
  });
  const pendingDeletions = new Gauge({
    name: "kms_gateway_pending_deletions",
    help: "Master keys scheduled for deletion.",
    registers: [registry],
  });
  const censusComplete = new Gauge({
    name: "kms_gateway_keys_census_complete",
    help: "1 when kms_gateway_keys counted every key, 0 when it stopped at its cap or could not count.",
    registers: [registry],
  });
  const sweep = new Counter({
    name: "kms_gateway_deletion_sweep_total",
    help: "Deletion sweep outcomes: keys destroyed, keys it could not check, sweeps that failed.",
    labelNames: ["outcome"] as const,
    registers: [registry],
  });
  for (const outcome of ["destroyed", "key_failed", "sweep_failed"]) sweep.inc({ outcome }, 0);
  const backendLatency = new Histogram({
    name: "kms_gateway_backend_call_duration_seconds",
    help: "Backend call latency, by backend and operation.",
    labelNames: ["backend", "operation"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const backendErrors = new Counter({
    name: "kms_gateway_backend_errors_total",
    help: "Backend calls that failed, by backend and operation.",
    labelNames: ["backend", "operation"] as const,
    registers: [registry],
  });
  const backendRetries = new Counter({
    name: "kms_gateway_backend_retries_total",
    help: "Backend calls retried, by backend and operation.",
    labelNames: ["backend", "operation"] as const,
    registers: [registry],
  });
  const circuit = new Gauge({
    name: "kms_gateway_backend_circuit_state",
    help: "The backend's circuit breaker: 0 closed, 1 half-open, 2 open.",
    labelNames: ["backend"] as const,
    registers: [registry],
  });
  const operationsSeen = new Map<string, Set<string>>();

  /** nameLabels bounds backend and operation names: code-chosen identifiers, 32 operations per backend. */
  function nameLabels(backend: string, operation: string) {
    const b = NAME.test(backend) ? backend : "other";
    let seen = operationsSeen.get(b);
    if (seen === undefined) {
      seen = new Set();
      operationsSeen.set(b, seen);
    }
    let op = NAME.test(operation) ? operation : "other";
    if (!seen.has(op)) {
      if (seen.size >= MAX_OPERATIONS) op = "other";
      else seen.add(op);
    }
    return { backend: b, operation: op };
  }

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
        authFailures.inc({ reason: authFailureCategory(entry.authError) });
      }
    },
    recordSweep(outcome) {
      sweep.inc({ outcome });
    },
    backend: {
      observeCall(backend, operation, seconds, failed) {
        const labels = nameLabels(backend, operation);
        backendLatency.observe(labels, seconds);
        if (failed) backendErrors.inc(labels);
      },
      retry(backend, operation) {
        backendRetries.inc(nameLabels(backend, operation));
      },
      circuitState(backend, state) {
        circuit.set({ backend: NAME.test(backend) ? backend : "other" }, CIRCUIT_STATES[state]);
      },
    },
    async render() {
      const [stats, status, census] = await Promise.all([
        options.cacheStats ? options.cacheStats().catch(() => null) : null,
        options.kmsStatus ? options.kmsStatus().catch(() => null) : null,
        options.keyCensus ? options.keyCensus().catch(() => null) : null,
      ]);
      for (const [field, gauge] of cacheGauges) {
        if (stats) gauge.set(stats[field]);
        else gauge.reset();
      }
      for (const s of SERVICE_STATUSES) kmsStatus.set({ status: s }, s === status ? 1 : 0);
      for (const state of KEY_STATES) keys.set({ state }, census?.byState[state] ?? 0);
      pendingDeletions.set(census?.byState.PendingDeletion ?? 0);
      censusComplete.set(census?.complete ? 1 : 0);
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
