import { fileURLToPath } from "node:url";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  file_grpc_health_v1_health,
  Health,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from "../../gen/grpc/health/v1/health_pb.js";
import { KmsAdminService } from "../../gen/kms/admin/v1/service_pb.js";
import { createHealthService } from "../../src/server/health-service.js";
import { createReflectionServices } from "../../src/server/reflection-service.js";
import { bufCurl, startRpcServer } from "./fixtures/rpc-server.js";

const kms = KmsAdminService.typeName;
let serving = true;
const shutdown = new AbortController();
let server: Awaited<ReturnType<typeof startRpcServer>>;
let client: ReturnType<typeof createClient<typeof Health>>;

beforeAll(async () => {
  server = await startRpcServer((router) => {
    router.service(
      ...createHealthService({
        services: [kms],
        isServing: (service) => service !== kms || serving,
        watchIntervalMs: 20,
        shutdownSignal: shutdown.signal,
      }),
    );
    const [v1, v1alpha] = createReflectionServices([file_grpc_health_v1_health]);
    router.service(...v1);
    router.service(...v1alpha);
  });
  client = createClient(Health, createGrpcTransport({ baseUrl: server.baseUrl }));
});
afterAll(() => server.close());

describe("Check and List", () => {
  it("answers SERVING for the server and each known service", async () => {
    expect((await client.check({ service: "" })).status).toBe(ServingStatus.SERVING);
    expect((await client.check({ service: kms })).status).toBe(ServingStatus.SERVING);
  });

  it("answers NOT_FOUND for an unknown service", async () => {
    const err = await client.check({ service: "no.such.Service" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.NotFound);
  });

  it("reports NOT_SERVING from the status callback, and lists every service", async () => {
    serving = false;
    try {
      expect((await client.check({ service: kms })).status).toBe(ServingStatus.NOT_SERVING);
      const { statuses } = await client.list({});
      expect(Object.keys(statuses).sort()).toEqual(["", kms]);
      expect(statuses[""]?.status).toBe(ServingStatus.SERVING);
      expect(statuses[kms]?.status).toBe(ServingStatus.NOT_SERVING);
    } finally {
      serving = true;
    }
  });

  it("answers buf curl over gRPC (h2c) and Connect (HTTP/1.1), schema by reflection", async () => {
    const url = `${server.baseUrl}/grpc.health.v1.Health/Check`;
    const viaGrpc = await bufCurl([
      "--protocol",
      "grpc",
      "--http2-prior-knowledge",
      "-d",
      "{}",
      url,
    ]);
    expect(viaGrpc.stderr).toBe("");
    expect(JSON.parse(viaGrpc.stdout)).toEqual({ status: "SERVING" });
    // Reflection is a bidi stream (HTTP/2); the call itself may go over HTTP/1.1 with Connect.
    const viaConnect = await bufCurl(["-d", JSON.stringify({ service: kms }), url]);
    expect(viaConnect.stderr).toBe("");
    expect(JSON.parse(viaConnect.stdout)).toEqual({ status: "SERVING" });
    const unknown = await bufCurl(["--protocol", "grpc", "-d", '{"service":"nope"}', url]);
    expect(unknown.ok).toBe(false);
    expect(unknown.stderr).toMatch(/"code": "not_found"/);
  });

  it("answers a @grpc/grpc-js client", async () => {
    const definition = protoLoader.loadSync(
      fileURLToPath(new URL("../../third_party/grpc/health/v1/health.proto", import.meta.url)),
      { enums: String },
    );
    const pkg = grpc.loadPackageDefinition(definition) as unknown as {
      grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
    };
    const grpcClient = new pkg.grpc.health.v1.Health(
      server.baseUrl.replace("http://", ""),
      grpc.credentials.createInsecure(),
    );
    try {
      const res = await new Promise<{ status: string }>((resolve, reject) => {
        grpcClient.Check({ service: kms }, (err: Error | null, value: { status: string }) =>
          err ? reject(err) : resolve(value),
        );
      });
      expect(res.status).toBe("SERVING");
    } finally {
      grpcClient.close();
    }
  });
});

describe("Watch", () => {
  it("sends SERVICE_UNKNOWN for an unknown service and stays open until the client leaves", async () => {
    const abort = new AbortController();
    const statuses: ServingStatus[] = [];
    const watching = (async () => {
      for await (const res of client.watch({ service: "nope" }, { signal: abort.signal })) {
        statuses.push(res.status);
        abort.abort();
      }
    })();
    await expect(watching).rejects.toMatchObject({ code: Code.Canceled });
    expect(statuses).toEqual([ServingStatus.SERVICE_UNKNOWN]);
  });

  it("sends the current status, then each change, and ends with NOT_SERVING on shutdown", async () => {
    const statuses: ServingStatus[] = [];
    for await (const res of client.watch({ service: kms })) {
      statuses.push(res.status);
      if (statuses.length === 1) serving = false;
      if (statuses.length === 2) serving = true;
      if (statuses.length === 3) shutdown.abort();
    }
    expect(statuses).toEqual([
      ServingStatus.SERVING,
      ServingStatus.NOT_SERVING,
      ServingStatus.SERVING,
      ServingStatus.NOT_SERVING,
    ]);
    expect((await client.check({ service: "" })).status).toBe(ServingStatus.NOT_SERVING);
  });
});
