import type { BackendFactory, KeyBackend } from "../engine/backend.js";
import type { BackendObserver } from "./gateway-metrics.js";

/**
 * observedBackendFactory wraps a backend factory so that every call of every backend it
 * opens reports its latency and whether it failed to `observer`, under the backend's
 * name and the method's name (never its arguments: a key id is not a label).
 */
export function observedBackendFactory(
  name: string,
  factory: BackendFactory,
  observer: BackendObserver,
): BackendFactory {
  return async (config) => {
    const backend = await factory(config);
    const observed = {} as KeyBackend;
    for (const operation of Object.keys(backend) as (keyof KeyBackend)[]) {
      const method = backend[operation];
      if (typeof method !== "function") continue;
      (observed as unknown as Record<string, unknown>)[operation] = async (...args: unknown[]) => {
        const started = performance.now();
        let failed = true;
        try {
          const result = await (method as (...a: unknown[]) => Promise<unknown>).apply(
            backend,
            args,
          );
          failed = false;
          return result;
        } finally {
          observer.observeCall(
            name,
            snakeCase(operation),
            (performance.now() - started) / 1000,
            failed,
          );
        }
      };
    }
    return observed;
  };
}

function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
