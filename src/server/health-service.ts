import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import {
  Health,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from "../../gen/grpc/health/v1/health_pb.js";

/** HealthServiceOptions say which services exist and whether they serve. */
export interface HealthServiceOptions {
  /** Fully-qualified names of the services this server answers for ("" is always known). */
  services: string[];
  /** Whether `service` ("" for the whole server) serves now; true when omitted. */
  isServing?: (service: string) => boolean | Promise<boolean>;
  /** How often Watch re-evaluates `isServing` (5 s by default). */
  watchIntervalMs?: number;
  /** Once aborted, every service reports NOT_SERVING and Watch streams end. */
  shutdownSignal?: AbortSignal;
}

/**
 * createHealthService implements `grpc.health.v1.Health`: Check answers
 * SERVING or NOT_SERVING for "" and each known service and NOT_FOUND for
 * others; Watch sends the current status, then each change (polled every
 * `watchIntervalMs`) until the client goes away or shutdown; List reports all.
 */
export function createHealthService(
  options: HealthServiceOptions,
): readonly [typeof Health, ServiceImpl<typeof Health>] {
  const known = new Set(["", ...options.services]);
  const intervalMs = options.watchIntervalMs ?? 5_000;
  const shutdown = options.shutdownSignal;

  const statusOf = async (service: string): Promise<ServingStatus> => {
    if (!known.has(service)) return ServingStatus.SERVICE_UNKNOWN;
    if (shutdown?.aborted) return ServingStatus.NOT_SERVING;
    const serving = (await options.isServing?.(service)) ?? true;
    // Shutdown may have begun while the check ran.
    return serving && !shutdown?.aborted ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
  };

  return [
    Health,
    {
      async check(request) {
        const status = await statusOf(request.service);
        if (status === ServingStatus.SERVICE_UNKNOWN) {
          throw new ConnectError("unknown service", Code.NotFound);
        }
        return { status };
      },
      async *watch(request, context) {
        // An unknown service gets SERVICE_UNKNOWN and the stream stays open, as the protocol says.
        const stop = shutdown ? AbortSignal.any([context.signal, shutdown]) : context.signal;
        let last: ServingStatus | undefined;
        for (;;) {
          if (context.signal.aborted) return;
          const status = await statusOf(request.service);
          if (status !== last) {
            yield { status };
            last = status;
          }
          if (stop.aborted) return;
          await sleep(intervalMs, stop);
        }
      },
      async list() {
        const statuses: Record<string, { status: ServingStatus }> = {};
        for (const service of known) statuses[service] = { status: await statusOf(service) };
        return { statuses };
      },
    },
  ];
}

/** sleep waits `ms`, or less if `signal` aborts; it never rejects. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
