import type { AddressInfo } from "node:net";
import { file_grpc_health_v1_health } from "../../gen/grpc/health/v1/health_pb.js";
import { KmsAdminService } from "../../gen/kms/admin/v1/service_pb.js";
import type { BackendFactory } from "../engine/backend.js";
import type { BackendType, KmsEngine } from "../engine/types.js";
import type { AccessLog } from "./access-log.js";
import { countingEngineLog } from "./engine-log-metrics.js";
import type { GatewayMetrics, KeyCensus } from "./gateway-metrics.js";
import { createKeyCensus } from "./key-census.js";
import type { Logger } from "./logger.js";
import {
  createMetricsEndpoint,
  createMetricsServer,
  METRICS_PATH,
  type MetricsEndpoint,
  type MetricsServer,
} from "./metrics-endpoint.js";
import { observedBackendFactory } from "./observed-backend.js";
import { createOpenApiEndpoint, OPENAPI_PATH } from "./openapi-endpoint.js";

/**
 * MetricsServing say where `/metrics` is served. On the main listener it always
 * needs the bearer `token` (the main port faces clients, and the figures describe the
 * keys and the traffic); on its own listener (`ownListener`, bound by listenMetrics, for a
 * private interface) the token is optional.
 */
export interface MetricsServing {
  token: string | null;
  ownListener: boolean;
}

/** BackendEvents are a backend's retries and circuit-breaker changes, as its factory takes them. */
export interface BackendEvents {
  retry(verb: string): void;
  circuitState(state: "closed" | "half_open" | "open"): void;
}

/** OpsRoute answers one operators' path on the main listener. */
export type OpsRoute = MetricsEndpoint;

/** GatewayOps is what the composition root plugs in for operators: metrics and the OpenAPI document. */
export interface GatewayOps {
  /** metricsExported is true when `/metrics` is served somewhere. */
  metricsExported: boolean;
  /** engineLog is the engine's logger, counting sweep outcomes on the way. */
  engineLog: Logger;
  /**
   * backendEvents is where a backend with retries and a circuit breaker (Vault)
   * reports them, under the backend's name; undefined when metrics are off.
   */
  backendEvents(backend: BackendType): BackendEvents | undefined;
  /** observeBackends wraps each backend factory so its calls are measured. */
  observeBackends(
    factories: Partial<Record<BackendType, BackendFactory>>,
  ): Partial<Record<BackendType, BackendFactory>>;
  /** attach gives the metrics the engine to read status, cache and key counts from. */
  attach(engine: KmsEngine): void;
  /** countRequests returns an access log that also counts each request. */
  countRequests(accessLog: AccessLog): AccessLog;
  /** routes are the paths the main listener's edge hands to these handlers. */
  routes: ReadonlyMap<string, OpsRoute>;
  /** listenMetrics binds the metrics' own listener; null when they have none. */
  listenMetrics(host: string, port: number): Promise<AddressInfo | null>;
  close(): Promise<void>;
}

/**
 * createGatewayOps builds the operators' side of a gateway. With metrics off, every hook
 * passes through untouched, so a gateway without metrics pays nothing per request, and
 * prom-client (~13 MB of RSS) is not even loaded.
 */
export async function createGatewayOps(options: {
  metrics?: MetricsServing;
  log: Logger;
}): Promise<GatewayOps> {
  const { log } = options;
  const settings = options.metrics;
  const routes = new Map<string, OpsRoute>();
  const openApi = createOpenApiEndpoint();
  if (openApi === null) {
    log(
      "warn",
      "openapi/kms-admin.json is missing: GET /openapi.json answers 404 (npm run openapi)",
    );
  } else {
    routes.set(OPENAPI_PATH, openApi);
  }
  if (settings === undefined) {
    return {
      metricsExported: false,
      engineLog: log,
      backendEvents: () => undefined,
      observeBackends: (factories) => factories,
      attach: () => {},
      countRequests: (accessLog) => accessLog,
      routes,
      listenMetrics: async () => null,
      close: async () => {},
    };
  }
  if (!settings.ownListener && settings.token === null) {
    throw new Error("metrics on the main listener need a bearer token");
  }
  let engine: KmsEngine | null = null;
  const rpcNames = [KmsAdminService, ...file_grpc_health_v1_health.services].flatMap((service) =>
    service.methods.map((method) => `${service.typeName}/${method.name}`),
  );
  let census: (() => Promise<KeyCensus | null>) | null = null;
  const { createGatewayMetrics } = await import("./gateway-metrics.js");
  const metrics: GatewayMetrics = createGatewayMetrics({
    rpcNames,
    kmsStatus: async () => (engine === null ? null : (await engine.status()).status),
    cacheStats: async () => (engine === null ? null : (await engine.status()).cacheStats),
    keyCensus: async () => (census === null ? null : census()),
  });
  const endpoint = createMetricsEndpoint({ metrics, token: settings.token });
  const server: MetricsServer | null = settings.ownListener ? createMetricsServer(endpoint) : null;
  return {
    metricsExported: true,
    engineLog: countingEngineLog(log, (outcome) => metrics.recordSweep(outcome)),
    backendEvents: (backend) => ({
      retry: (verb) => metrics.backend.retry(backend, verb),
      circuitState: (state) => metrics.backend.circuitState(backend, state),
    }),
    observeBackends: (factories) =>
      Object.fromEntries(
        Object.entries(factories).map(([name, factory]) => [
          name,
          observedBackendFactory(name, factory, metrics.backend),
        ]),
      ),
    attach(running) {
      engine = running;
      census = createKeyCensus(running);
    },
    countRequests: (accessLog) => ({
      write(entry) {
        accessLog.write(entry);
        metrics.recordRequest(entry);
      },
      close: () => accessLog.close(),
    }),
    routes: server === null ? new Map([...routes, [METRICS_PATH, endpoint]]) : routes,
    listenMetrics: async (host, port) => (server === null ? null : server.listen(host, port)),
    close: async () => {
      await server?.close();
    },
  };
}
