import { gzipSync } from "node:zlib";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, type ConnectError, createContextValues } from "@connectrpc/connect";
import type { UniversalServerRequest } from "@connectrpc/connect/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  GenerateDataKeyRequestSchema,
  KmsAdminService,
} from "../../gen/kms/admin/v1/service_pb.js";
import { rpcInputErrorKey, screenRpcRequest } from "../../src/server/screen-rpc-request.js";
import { fuzzSettings, fuzzTestTimeoutMs } from "../helpers/fuzz-settings.js";
import { grpcEnvelope } from "../helpers/grpc-envelope.js";

const gdk = KmsAdminService.method.generateDataKey;

function universal(
  contentType: string,
  headers: Record<string, string> = {},
): UniversalServerRequest {
  return {
    httpVersion: "2",
    url: "http://127.0.0.1/kms.admin.v1.KmsAdminService/GenerateDataKey",
    method: "POST",
    header: new Headers({ "content-type": contentType, ...headers }),
    contextValues: createContextValues(),
    body: (async function* () {})(),
    signal: new AbortController().signal,
  };
}

async function bodyOf(request: UniversalServerRequest): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of request.body as AsyncIterable<Uint8Array>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function verdict(request: UniversalServerRequest): ConnectError | undefined {
  return request.contextValues?.get(rpcInputErrorKey);
}

describe("screenRpcRequest", () => {
  it("passes a good binary message on unchanged", async () => {
    const message = toBinary(
      GenerateDataKeyRequestSchema,
      create(GenerateDataKeyRequestSchema, { keyId: "k", encryptionContext: { a: "b" } }),
    );
    const screened = await screenRpcRequest(gdk, universal("application/proto"), message);
    expect(verdict(screened)).toBeUndefined();
    expect(await bodyOf(screened)).toEqual(Buffer.from(message));
  });

  it("inflates a gRPC frame, re-frames it plain and drops grpc-encoding", async () => {
    const message = toBinary(
      GenerateDataKeyRequestSchema,
      create(GenerateDataKeyRequestSchema, { keyId: "k" }),
    );
    const request = universal("application/grpc", { "grpc-encoding": "gzip" });
    const screened = await screenRpcRequest(
      gdk,
      request,
      grpcEnvelope(gzipSync(message), { flag: 1 }),
    );
    expect(verdict(screened)).toBeUndefined();
    expect(screened.header.get("grpc-encoding")).toBeNull();
    expect(await bodyOf(screened)).toEqual(grpcEnvelope(message));
  });

  it("finds a __proto__ map key nested in binary, which fromBinary would drop", async () => {
    const message = create(GenerateDataKeyRequestSchema, { keyId: "k" });
    Object.defineProperty(message.encryptionContext, "__proto__", {
      value: "X",
      enumerable: true,
    });
    const bytes = toBinary(GenerateDataKeyRequestSchema, message);
    const screened = await screenRpcRequest(gdk, universal("application/proto"), bytes);
    expect(verdict(screened)?.code).toBe(Code.InvalidArgument);
    expect(verdict(screened)?.rawMessage).toMatch(/"encryption_context".*"__proto__"/);
    // connect gets an empty, valid message; the interceptor throws the verdict.
    expect(await bodyOf(screened)).toHaveLength(0);
  });

  it("stops inflating a bomb at 1 MiB", async () => {
    const bomb = gzipSync(Buffer.alloc(100 * 1024 * 1024), { level: 9 });
    const request = universal("application/proto", { "content-encoding": "gzip" });
    // CPU time, not wall time, so a busy machine does not make it pass or fail:
    // inflating all 100 MiB costs about a second of CPU, stopping at 1 MiB a few ms.
    const before = process.cpuUsage();
    const screened = await screenRpcRequest(gdk, request, bomb);
    const used = process.cpuUsage(before);
    expect(verdict(screened)?.code).toBe(Code.ResourceExhausted);
    expect((used.user + used.system) / 1000).toBeLessThan(250);
  });

  it("leaves content types connect does not serve as unary to connect", async () => {
    const screened = await screenRpcRequest(
      gdk,
      universal("application/grpc-web-text"),
      Buffer.from("AAAA"),
    );
    expect(verdict(screened)).toBeUndefined();
    expect((await bodyOf(screened)).toString()).toBe("AAAA");
  });

  it(
    "property: any body gives a request and, at worst, an InvalidArgument or ResourceExhausted verdict",
    async () => {
      const contentType = fc.constantFrom(
        "application/proto",
        "application/json",
        "application/grpc",
        "application/grpc+json",
        "application/grpc-web+proto",
      );
      const encoding = fc.constantFrom(undefined, "gzip", "br", "identity", "zstd");
      const body = fc.oneof(
        fc.uint8Array({ maxLength: 64 }),
        fc.uint8Array({ maxLength: 64 }).map((m) => grpcEnvelope(m)),
        fc.uint8Array({ maxLength: 64 }).map((m) => grpcEnvelope(gzipSync(m), { flag: 1 })),
        fc.uint8Array({ maxLength: 64 }).map((m) => gzipSync(m)),
        fc.json().map((j) => Buffer.from(j)),
      );
      await fc.assert(
        fc.asyncProperty(contentType, encoding, body, async (type, enc, bytes) => {
          const headers: Record<string, string> = {};
          if (enc !== undefined) {
            headers[type.includes("grpc") ? "grpc-encoding" : "content-encoding"] = enc;
          }
          const screened = await screenRpcRequest(gdk, universal(type, headers), bytes);
          const error = verdict(screened);
          if (error !== undefined) {
            expect([Code.InvalidArgument, Code.ResourceExhausted]).toContain(error.code);
          }
          await bodyOf(screened);
        }),
        fuzzSettings(300),
      );
    },
    fuzzTestTimeoutMs,
  );
});
