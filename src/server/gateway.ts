import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { DescMethod } from "@bufbuild/protobuf";
import { ConnectError, createConnectRouter } from "@connectrpc/connect";
import { compressionBrotli, compressionGzip } from "@connectrpc/connect-node";
import { file_grpc_health_v1_health } from "../../gen/grpc/health/v1/health_pb.js";
import { file_kms_admin_v1_service, KmsAdminService } from "../../gen/kms/admin/v1/service_pb.js";
import {
  file_kms_aws_v1_trent_service,
  TrentService,
} from "../../gen/kms/aws/v1/trent_service_pb.js";
import type { CredentialStore } from "../auth/credential-store.js";
import { isKmsAction } from "../auth/permissions.js";
import type { ReplayCache } from "../auth/replay-cache.js";
import { createAwsJsonAdapter } from "../awsjson/index.js";
import { createFileStateStore } from "../backends/local/file-state-store.js";
import { localBackendFactory } from "../backends/local/local-backend.js";
import { readSecretFile } from "../backends/local/read-secret-file.js";
import { createVaultBackendFactory } from "../backends/vault/vault-backend-factory.js";
import { createEngine } from "../engine/engine.js";
import type { KmsEngine } from "../engine/types.js";
import { createCors, createLegacyRoutes, createRestTranscoder } from "../rest/index.js";
import { awsErrorOf } from "../service/aws-errors.js";
import { createAwsIdentifiers } from "../service/aws-identifiers.js";
import { createCallAuthorizer } from "../service/call-authorizer.js";
import { type Caller, callerKey } from "../service/caller.js";
import { createKmsAdminService } from "../service/kms-admin-service.js";
import { methodActionsOf } from "../service/method-actions.js";
import { createTrentService } from "../service/trent-service.js";
import { createAccessLog } from "./access-log.js";
import { auditDestructions } from "./audit-destructions.js";
import type { AuditLog } from "./audit-log.js";
import { createEdge } from "./edge.js";
import { createGatewayOps, type MetricsServing } from "./gateway-ops.js";
import { createHealthService } from "./health-service.js";
import { createListener } from "./listener.js";
import type { Logger } from "./logger.js";
import { createPreauthBudget } from "./preauth-budget.js";
import { bodyLimitBytes } from "./read-body.js";
import { createReadiness } from "./readiness.js";
import { createReflectionServices } from "./reflection-service.js";
import { rpcInputErrorInterceptor } from "./screen-rpc-request.js";
import { STATE_FILE_NAME } from "./startup-dirs.js";
import { createUnaryRpcServer } from "./unary-rpc-server.js";

/** GatewayOptions configure one gateway process. */
export interface GatewayOptions {
  /** Where the lifecycle state file and (by default) the local key directory live. */
  dataDir: string;
  credentials: CredentialStore;
  log: Logger;
  tls?: { cert: Buffer; key: Buffer };
  /** Deadline for a request's whole body to arrive, per HTTP/1.1 request and HTTP/2 stream (30 s). */
  bodyTimeoutMs?: number;
  /** Bytes buffered at once for requests whose signature is not yet verified (16 MiB). */
  preauthBodyBudgetBytes?: number;
  /** How long identical auth failures are folded into one access-log summary (10 s). */
  authFailureLogWindowMs?: number;
  /** On close, how long in-flight requests may run before their connections are cut (10 s). */
  drainTimeoutMs?: number;
  /**
   * Which code serves unary KmsAdminService calls over Connect, gRPC and gRPC-Web:
   * `lean` (default, createUnaryRpcServer) or `connect` (connect-node's handlers, which
   * serve streaming, health and reflection either way). The answers are the same; the
   * conformance test and the benchmark compare the two.
   */
  unaryRpc?: "lean" | "connect";
  /** Origins whose browser consoles may call the REST admin API (CORS); none by default. */
  corsOrigins?: readonly string[];
  /** Lets key deletion with `force_immediate` (and `confirm_key_id`) destroy a key at once. */
  allowImmediateDeletion?: boolean;
  /** The 12-digit account of the AWS KMS API's key ARNs (000000000000). */
  awsAccountId?: string;
  /** Where audited calls and the deletion sweep's destructions are recorded; none keeps no trail. */
  audit?: AuditLog;
  /** Answer audited calls whose line cannot be written (logged) instead of failing them with 500. */
  auditFailOpen?: boolean;
  /** With `--reject-replays`: remembers used signatures; a second use is refused with 401. */
  replays?: ReplayCache;
  /** Prometheus metrics at `/metrics`; off when absent (see MetricsServing). */
  metrics?: MetricsServing;
}

/** Gateway is a running composition of engine, service, REST transcoder and listener. */
export interface Gateway {
  engine: KmsEngine;
  /** listen binds the port (0 = any) and resolves with the bound address. */
  listen(host: string, port: number): Promise<AddressInfo>;
  /**
   * close stops accepting, lets in-flight requests finish (for up to
   * `drainTimeoutMs`, then cuts them), then closes the engine.
   */
  close(): Promise<void>;
  /** listenMetrics binds `--metrics-address` when metrics have their own listener, else null. */
  listenMetrics(host: string, port: number): Promise<AddressInfo | null>;
}

/** GATEWAY_VERSION is what MinIO's `GET /minio/kms/v1/version` reports. */
const GATEWAY_VERSION = "kms-gateway 0.1.0";

/** restPathAliases lets MinIO clients use their admin prefix for the same routes. */
const restPathAliases = { "/minio/admin/v3/": "/rustfs/admin/v3/" };

/**
 * createGateway wires the house together: the engine on the local file and
 * Vault backends, the one KmsAdminService implementation, the REST transcoder and the
 * Connect handlers behind the SigV4 edge, and the listener serving every
 * protocol on one port. This is the only module that imports every folder.
 */
export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const { log, audit } = options;
  const ops = await createGatewayOps({ metrics: options.metrics, log });
  const engine = await createEngine({
    stateStore: createFileStateStore(join(options.dataDir, STATE_FILE_NAME)),
    backends: ops.observeBackends({
      local: localBackendFactory,
      vault: createVaultBackendFactory({ log, events: ops.backendEvents("vault") }),
    }),
    defaultKeyDir: join(options.dataDir, "keys"),
    readSecretFile,
    log: audit === undefined ? ops.engineLog : auditDestructions(ops.engineLog, audit),
    cacheMetricsExported: ops.metricsExported,
  });
  ops.attach(engine);
  // One authorizer for every protocol: the edge screens RPCs with it, the REST
  // transcoder screens routes with it, and every handler runs through it.
  const authorizer = createCallAuthorizer({
    actions: new Map([
      ...methodActionsOf(KmsAdminService, isKmsAction),
      ...methodActionsOf(TrentService, isKmsAction),
    ]),
    audit: audit === undefined ? undefined : (entry) => audit.write(entry),
    auditFailOpen: options.auditFailOpen,
    log,
  });
  const implementation = createKmsAdminService(engine, {
    log,
    authorizer,
    allowImmediateDeletion: options.allowImmediateDeletion,
  });

  // The AWS KMS API: the same engine and authorizer, AWS's shapes and names.
  const trent = createTrentService(engine, {
    log,
    authorizer,
    identifiers: createAwsIdentifiers(options.awsAccountId),
  });

  // The screen's refusal of an AWS KMS API call in AWS's words (AccessDeniedException),
  // over AWS JSON and RPC alike, like the errors of its handlers.
  const screenTrent = (caller: Caller, method: DescMethod) =>
    authorizer.screen(caller, method).catch((err: unknown) => {
      throw awsErrorOf(err);
    });

  const reflection = createReflectionServices([
    file_kms_admin_v1_service,
    file_kms_aws_v1_trent_service,
    file_grpc_health_v1_health,
  ]);
  const shutdown = new AbortController();
  const kmsReadiness = createReadiness(() => engine.status());
  // Once shutdown begins the gateway is not ready, whatever the KMS says, so balancers
  // stop sending new work while in-flight requests drain.
  const readiness = {
    check: async () => {
      const view = await kmsReadiness.check();
      return shutdown.signal.aborted ? { ...view, ready: false } : view;
    },
  };
  const health = createHealthService({
    services: [KmsAdminService.typeName],
    // "" is liveness (the process answers); the KMS service is readiness: it serves
    // only while the KMS is Running and its backend healthy.
    isServing: async (service) =>
      service !== KmsAdminService.typeName || (await readiness.check()).ready,
    shutdownSignal: shutdown.signal,
  });
  const accessLog = ops.countRequests(
    createAccessLog({ log, authFailureWindowMs: options.authFailureLogWindowMs }),
  );
  // The edge inflates request bodies itself (screenRpcRequest, bounded);
  // these also let connect compress answers for callers that accept it.
  const acceptCompression = [compressionGzip, compressionBrotli];
  const router = createConnectRouter({
    readMaxBytes: bodyLimitBytes,
    acceptCompression,
    interceptors: [rpcInputErrorInterceptor],
  });
  router.service(KmsAdminService, implementation);
  router.service(TrentService, trent);
  for (const [service, impl] of [...reflection, health]) {
    router.service(service, impl);
  }

  // The services already log the cause of their internal errors and answer the
  // rest on purpose; only an error that is not a ConnectError is news.
  const logUnexpected = (err: unknown, method: { name: string }) => {
    if (!(err instanceof ConnectError)) {
      log("error", "request failed", { method: method.name, cause: err });
    }
  };

  const edge = createEdge({
    rpcHandlers: router.handlers,
    publicServices: new Set([...reflection, health].map(([service]) => service.typeName)),
    // MinIO- and RustFS-era routes the proto's grammar cannot express wrap the transcoder.
    rest: createLegacyRoutes({
      version: GATEWAY_VERSION,
      rest: createRestTranscoder({
        service: KmsAdminService,
        implementation,
        pathAliases: restPathAliases,
        onError: logUnexpected,
        beforeDecode: (method, values) => authorizer.screen(values.get(callerKey), method),
      }),
    }),
    awsJson: createAwsJsonAdapter({
      service: TrentService,
      implementation: trent,
      onError: logUnexpected,
      // The screen's refusal in AWS's words (AccessDeniedException), like the handlers' errors.
      beforeDecode: (method, values) => screenTrent(values.get(callerKey), method),
    }),
    cors: options.corsOrigins?.length ? createCors(options.corsOrigins) : undefined,
    credentials: options.credentials,
    log,
    accessLog,
    readiness,
    bodyTimeoutMs: options.bodyTimeoutMs,
    preauthBudget: createPreauthBudget(options.preauthBodyBudgetBytes),
    screen: (caller, method) =>
      method.parent.typeName === KmsAdminService.typeName
        ? authorizer.screen(caller, method)
        : method.parent.typeName === TrentService.typeName
          ? screenTrent(caller, method)
          : Promise.resolve(),
    replays: options.replays,
    unaryRpc:
      options.unaryRpc === "connect"
        ? undefined
        : createUnaryRpcServer({
            services: [
              [KmsAdminService, implementation],
              [TrentService, trent],
            ],
            acceptCompression,
            readMaxBytes: bodyLimitBytes,
          }),
    opsRoutes: ops.routes,
  });
  const listener = createListener({ handler: edge, tls: options.tls });

  return {
    engine,
    listen: (host, port) => listener.listen(host, port),
    listenMetrics: (host, port) => ops.listenMetrics(host, port),
    async close() {
      // Health turns NOT_SERVING first, so balancers stop sending new work.
      shutdown.abort();
      await listener.close({ graceMs: options.drainTimeoutMs ?? 10_000 });
      accessLog.close();
      await ops.close();
      await engine.close();
      await audit?.close();
    },
  };
}
