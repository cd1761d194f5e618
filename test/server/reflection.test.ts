import { create, createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { file_grpc_health_v1_health } from "../../gen/grpc/health/v1/health_pb.js";
import * as v1 from "../../gen/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { file_kms_admin_v1_service, KmsAdminService } from "../../gen/kms/admin/v1/service_pb.js";
import { createHealthService } from "../../src/server/health-service.js";
import { createReflectionServices } from "../../src/server/reflection-service.js";
import { bufCurl, startRpcServer } from "./fixtures/rpc-server.js";

const servedServices = [
  "grpc.health.v1.Health",
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
  "kms.admin.v1.KmsAdminService",
];

let server: Awaited<ReturnType<typeof startRpcServer>>;
beforeAll(async () => {
  server = await startRpcServer((router) => {
    router.service(KmsAdminService, {});
    const [health, healthImpl] = createHealthService({ services: [KmsAdminService.typeName] });
    router.service(health, healthImpl);
    const [r1, r1alpha] = createReflectionServices([
      file_kms_admin_v1_service,
      file_grpc_health_v1_health,
    ]);
    router.service(...r1);
    router.service(...r1alpha);
  });
});
afterAll(() => server.close());

describe("buf curl over server reflection", () => {
  const grpc = ["--protocol", "grpc", "--http2-prior-knowledge"];

  for (const reflectProtocol of [undefined, "grpc-v1", "grpc-v1alpha"]) {
    it(`lists services (reflect protocol: ${reflectProtocol ?? "default"})`, async () => {
      const flags = reflectProtocol ? ["--reflect-protocol", reflectProtocol] : [];
      const res = await bufCurl([...grpc, ...flags, "--list-services", server.baseUrl]);
      expect(res.stderr).toBe("");
      expect(res.stdout.trim().split("\n").sort()).toEqual(servedServices);
    });
  }

  for (const reflectProtocol of ["grpc-v1", "grpc-v1alpha"]) {
    it(`lists the 32 KmsAdminService methods and the others (${reflectProtocol})`, async () => {
      // --list-methods takes the base URL and lists the methods of every service.
      const res = await bufCurl([
        ...grpc,
        "--reflect-protocol",
        reflectProtocol,
        "--list-methods",
        server.baseUrl,
      ]);
      expect(res.stderr).toBe("");
      const listed = res.stdout.trim().split("\n");
      const expected = KmsAdminService.methods.map((m) => `kms.admin.v1.KmsAdminService/${m.name}`);
      expect(expected).toHaveLength(32);
      expect(listed.filter((m) => m.startsWith("kms.")).sort()).toEqual(expected.sort());
      expect(listed).toContain("grpc.health.v1.Health/Watch");
      expect(listed).toContain("grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo");
    });
  }

  it("resolves a method's schema by reflection and calls it", async () => {
    // The empty implementation answers Unimplemented: proof that buf found and encoded the request.
    const res = await bufCurl([
      ...grpc,
      "-d",
      '{"keyId": "k1"}',
      `${server.baseUrl}/kms.admin.v1.KmsAdminService/DescribeKey`,
    ]);
    expect(res.ok).toBe(false);
    expect(res.stderr).toMatch(/"code": "unimplemented"/);
  });
});

describe("reflection protocol details", () => {
  async function exchange(requests: v1.ServerReflectionRequest["messageRequest"][]) {
    const client = createClient(
      v1.ServerReflection,
      createGrpcTransport({ baseUrl: server.baseUrl }),
    );
    const responses: v1.ServerReflectionResponse[] = [];
    async function* send() {
      for (const messageRequest of requests) {
        yield create(v1.ServerReflectionRequestSchema, { host: "h", messageRequest });
      }
    }
    for await (const res of client.serverReflectionInfo(send())) responses.push(res);
    return responses;
  }

  function fileNames(res: v1.ServerReflectionResponse): string[] {
    if (res.messageResponse.case !== "fileDescriptorResponse") {
      throw new Error(`expected files, got ${res.messageResponse.case}`);
    }
    return res.messageResponse.value.fileDescriptorProto.map(
      (bytes) => fromBinary(FileDescriptorProtoSchema, bytes).name,
    );
  }

  it("sends a file with its imports once per stream, the file itself each time", async () => {
    const [first, again, health] = await exchange([
      { case: "fileByFilename", value: "kms/admin/v1/service.proto" },
      { case: "fileByFilename", value: "kms/admin/v1/service.proto" },
      { case: "fileContainingSymbol", value: "grpc.health.v1.Health" },
    ]);
    expect(first?.validHost).toBe("h");
    expect(first?.originalRequest?.messageRequest.value).toBe("kms/admin/v1/service.proto");
    expect(fileNames(first as v1.ServerReflectionResponse).sort()).toEqual([
      "google/api/annotations.proto",
      "google/api/http.proto",
      "google/protobuf/descriptor.proto",
      "google/protobuf/timestamp.proto",
      "kms/admin/v1/authz.proto",
      "kms/admin/v1/service.proto",
      "kms/admin/v1/types.proto",
    ]);
    expect(fileNames(again as v1.ServerReflectionResponse)).toEqual(["kms/admin/v1/service.proto"]);
    expect(fileNames(health as v1.ServerReflectionResponse)).toEqual([
      "grpc/health/v1/health.proto",
    ]);
  });

  it("sends descriptors a client can build a registry from", async () => {
    const [res] = await exchange([
      { case: "fileContainingSymbol", value: "kms.admin.v1.KmsAdminService" },
    ]);
    if (res?.messageResponse.case !== "fileDescriptorResponse") throw new Error("no files");
    const file = res.messageResponse.value.fileDescriptorProto.map((b) =>
      fromBinary(FileDescriptorProtoSchema, b),
    );
    // The server sends each file once, in no promised order: a client orders them
    // so that every dependency comes before the files that import it.
    const ordered: typeof file = [];
    while (ordered.length < file.length) {
      const ready = file.filter(
        (f) => !ordered.includes(f) && f.dependency.every((d) => ordered.some((o) => o.name === d)),
      );
      if (ready.length === 0) throw new Error("a dependency was not sent");
      ordered.push(...ready);
    }
    const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: ordered }));
    const service = registry.getService("kms.admin.v1.KmsAdminService");
    expect(service?.methods.map((m) => m.name)).toEqual(KmsAdminService.methods.map((m) => m.name));
    expect(registry.getMessage("kms.admin.v1.KeyMetadata")?.fields.length).toBeGreaterThan(0);
  });

  it("finds the file of services, methods, messages, nested types, fields and extensions", async () => {
    const symbols = {
      "kms.admin.v1.KmsAdminService": "kms/admin/v1/service.proto",
      "kms.admin.v1.KmsAdminService.CreateKey": "kms/admin/v1/service.proto",
      "kms.admin.v1.KeyMetadata": "kms/admin/v1/types.proto",
      "grpc.health.v1.HealthCheckResponse.ServingStatus": "grpc/health/v1/health.proto",
      "grpc.health.v1.HealthListResponse.StatusesEntry": "grpc/health/v1/health.proto",
      "grpc.health.v1.HealthCheckRequest.service": "grpc/health/v1/health.proto",
      "grpc.health.v1.HealthCheckResponse.SERVING": "grpc/health/v1/health.proto",
      "grpc.reflection.v1alpha.ServerReflectionRequest.message_request":
        "grpc/reflection/v1alpha/reflection.proto",
      "google.api.http": "google/api/annotations.proto",
      "google.protobuf.Timestamp": "google/protobuf/timestamp.proto",
    };
    const responses = await exchange(
      Object.keys(symbols).map((value) => ({ case: "fileContainingSymbol", value })),
    );
    expect(responses.map((r) => fileNames(r)[0])).toEqual(Object.values(symbols));
  });

  it("answers extension questions", async () => {
    const [byNumber, numbers, unknownNumber] = await exchange([
      {
        case: "fileContainingExtension",
        value: create(v1.ExtensionRequestSchema, {
          containingType: "google.protobuf.MethodOptions",
          extensionNumber: 72295728,
        }),
      },
      { case: "allExtensionNumbersOfType", value: "google.protobuf.MethodOptions" },
      {
        case: "fileContainingExtension",
        value: create(v1.ExtensionRequestSchema, {
          containingType: "google.protobuf.MethodOptions",
          extensionNumber: 1,
        }),
      },
    ]);
    expect(fileNames(byNumber as v1.ServerReflectionResponse)[0]).toBe(
      "google/api/annotations.proto",
    );
    expect(numbers?.messageResponse).toMatchObject({
      case: "allExtensionNumbersResponse",
      value: {
        baseTypeName: "google.protobuf.MethodOptions",
        // google.api.http, and kms.admin.v1.action (proto/kms/admin/v1/authz.proto).
        extensionNumber: expect.arrayContaining([72295728, 50901]),
      },
    });
    if (numbers?.messageResponse.case === "allExtensionNumbersResponse") {
      expect([...numbers.messageResponse.value.extensionNumber].sort()).toEqual([50901, 72295728]);
    }
    expect(unknownNumber?.messageResponse).toMatchObject({
      case: "errorResponse",
      value: { errorCode: 5 },
    });
  });

  it("answers NOT_FOUND in an error_response and keeps the stream open", async () => {
    const responses = await exchange([
      { case: "fileByFilename", value: "no/such.proto" },
      { case: "fileContainingSymbol", value: "no.such.Symbol" },
      { case: "fileContainingSymbol", value: "kms.admin.v1.KmsAdminService.NoSuchMethod" },
      { case: "allExtensionNumbersOfType", value: "no.such.Message" },
      { case: "fileContainingSymbol", value: "x".repeat(10_000) },
      { case: "listServices", value: "" },
    ]);
    expect(responses).toHaveLength(6);
    for (const res of responses.slice(0, 5)) {
      expect(res.messageResponse).toMatchObject({ case: "errorResponse", value: { errorCode: 5 } });
    }
    const long = responses[4]?.messageResponse.value as v1.ErrorResponse;
    expect(long.errorMessage.length).toBeLessThan(300);
    expect(responses[5]?.messageResponse.case).toBe("listServicesResponse");
  });

  it("serves v1alpha with the same answers", async () => {
    const client = createClient(
      v1alpha.ServerReflection,
      createGrpcTransport({ baseUrl: server.baseUrl }),
    );
    async function* send() {
      yield create(v1alpha.ServerReflectionRequestSchema, {
        messageRequest: { case: "listServices", value: "" },
      });
    }
    const names: string[] = [];
    for await (const res of client.serverReflectionInfo(send())) {
      if (res.messageResponse.case === "listServicesResponse") {
        names.push(...res.messageResponse.value.service.map((s) => s.name));
      }
    }
    expect(names.sort()).toEqual(servedServices);
  });
});
