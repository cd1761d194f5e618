import { hasConfiguredMasterKey } from "./master-key.js";
import type { BackendSummary, ConfigSummary, ConfigView, KmsConfig } from "./types.js";

/**
 * configSummary describes a configuration without its secrets (GET /kms/status).
 * `metricsExported` says whether the cache's figures are exported as metrics.
 */
export function configSummary(config: KmsConfig, metricsExported = false): ConfigSummary {
  return {
    backendType: config.backend.backendType,
    defaultKeyId: config.defaultKeyId,
    timeoutSeconds: config.timeoutSeconds,
    retryAttempts: config.retryAttempts,
    enableCache: config.enableCache,
    cacheSummary: {
      maxKeys: config.maxCachedKeys,
      ttlSeconds: config.cacheTtlSeconds,
      // The cache always counts (cache_stats); metrics are "enabled" when exported.
      enableMetrics: metricsExported,
    },
    backendSummary: backendSummary(config),
  };
}

/** backendSummary describes the configured backend; it names the auth method type, never the secret. */
export function backendSummary(config: KmsConfig): BackendSummary {
  const backend = config.backend;
  if (backend.backendType === "local") {
    return {
      backendType: "local",
      keyDir: backend.keyDir,
      // Whether inline, in a file or in the environment: only "set" is ever shown.
      hasMasterKey: hasConfiguredMasterKey(backend),
    };
  }
  return {
    backendType: "vault",
    address: backend.address,
    authMethodType: "token" in backend.authMethod ? "token" : "approle",
    namespace: backend.namespace,
    mountPath: backend.mountPath,
    kvMount: backend.kvMount,
    keyPathPrefix: backend.keyPathPrefix,
  };
}

/** configView answers GET /kms/config; with nothing configured the cache reads as off. */
export function configView(config: KmsConfig | null): ConfigView {
  if (config === null) {
    return {
      backend: null,
      cacheEnabled: false,
      cacheMaxKeys: 0,
      cacheTtlSeconds: 0,
      defaultKeyId: null,
    };
  }
  return {
    backend: config.backend.backendType,
    cacheEnabled: config.enableCache,
    cacheMaxKeys: config.maxCachedKeys,
    cacheTtlSeconds: config.cacheTtlSeconds,
    defaultKeyId: config.defaultKeyId,
  };
}
