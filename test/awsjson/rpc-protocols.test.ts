import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { describe, expect, it } from "vitest";
import * as v1 from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { TrentService } from "../../gen/kms/aws/v1/trent_service_pb.js";
import { useGateway } from "../helpers/gateway-process.js";
import { sigv4Interceptor } from "../helpers/sigv4-headers.js";

// TrentService is a service like any other: Connect, gRPC and gRPC-Web serve it on
// the same port (the lean unary path included), reflection lists it, and its errors
// carry the AWS exception name in `kms-error-code`.

const gw = useGateway();

const transports = {
  connect: () => createConnectTransport({ baseUrl: gw.url, httpVersion: "1.1" }),
  grpc: () => createGrpcTransport({ baseUrl: gw.url }),
  "grpc-web": () => createGrpcWebTransport({ baseUrl: gw.url, httpVersion: "2" }),
};

describe("TrentService over Connect, gRPC and gRPC-Web", () => {
  for (const [name, transport] of Object.entries(transports)) {
    it(`${name}: creates a key, makes a data key, decrypts it; errors name AWS's exception`, async () => {
      const client = createClient(TrentService, transport());
      const signed = createClient(
        TrentService,
        name === "connect"
          ? createConnectTransport({
              baseUrl: gw.url,
              httpVersion: "1.1",
              interceptors: [sigv4Interceptor()],
            })
          : name === "grpc"
            ? createGrpcTransport({ baseUrl: gw.url, interceptors: [sigv4Interceptor()] })
            : createGrpcWebTransport({
                baseUrl: gw.url,
                httpVersion: "2",
                interceptors: [sigv4Interceptor()],
              }),
      );
      const created = await signed.createKey({
        tags: [{ tagKey: "name", tagValue: `rpc-${name}` }],
      });
      expect(created.keyMetadata?.arn).toBe(`arn:aws:kms:us-east-1:000000000000:key/rpc-${name}`);
      const dataKey = await signed.generateDataKey({ keyId: `rpc-${name}`, keySpec: "AES_256" });
      expect(dataKey.plaintext?.byteLength).toBe(32);
      const dec = await signed.decrypt({ ciphertextBlob: dataKey.ciphertextBlob });
      expect(Buffer.from(dec.plaintext ?? [])).toEqual(Buffer.from(dataKey.plaintext ?? []));

      const missing = await signed.describeKey({ keyId: "no-such-key" }).then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
      expect(missing?.code).toBe(Code.NotFound);
      expect(missing?.metadata.get("kms-error-code")).toBe("NotFoundException");

      // Unsigned: refused before the service runs.
      const unsigned = await client.generateRandom({ numberOfBytes: 4 }).then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
      expect(unsigned?.code).toBe(Code.Unauthenticated);
    });
  }

  it("reflection lists kms.aws.v1.TrentService", async () => {
    const client = createClient(v1.ServerReflection, createGrpcTransport({ baseUrl: gw.url }));
    async function* send() {
      yield create(v1.ServerReflectionRequestSchema, {
        messageRequest: { case: "listServices", value: "" },
      });
    }
    const names: string[] = [];
    for await (const res of client.serverReflectionInfo(send())) {
      if (res.messageResponse.case === "listServicesResponse") {
        names.push(...res.messageResponse.value.service.map((s) => s.name));
      }
    }
    expect(names).toContain("kms.aws.v1.TrentService");
    expect(names).toContain("kms.admin.v1.KmsAdminService");
  });
});
