import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { create, toBinary } from "@bufbuild/protobuf";
import { StringValueSchema } from "@bufbuild/protobuf/wkt";
import {
  Code,
  ConnectError,
  createClient,
  createContextValues,
  type ServiceImpl,
} from "@connectrpc/connect";
import {
  compressionBrotli,
  compressionGzip,
  connectNodeAdapter,
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KmsAdminService } from "../../gen/kms/admin/v1/service_pb.js";
import { bodyLimitBytes } from "../../src/server/read-body.js";
import { createUnaryRpcServer } from "../../src/server/unary-rpc-server.js";
import { grpcEnvelope } from "../helpers/grpc-envelope.js";
import { readH2Answer } from "../helpers/h2-answer.js";

// The lean unary path on its own, generically: an implementation that sets response
// headers and trailers, reads its context, throws errors with metadata and details,
// throws something that is not a ConnectError, or is missing a method. The same
// implementation is served by createUnaryRpcServer and by connect-node's adapter,
// and real connect clients (and raw requests) must see the same thing from both.

const seen: { signalAborted?: boolean; timeoutMs?: number; protocol?: string }[] = [];

const implementation: Partial<ServiceImpl<typeof KmsAdminService>> = {
  describeKey(req, ctx) {
    seen.push({
      signalAborted: ctx.signal.aborted,
      timeoutMs: ctx.timeoutMs(),
      protocol: ctx.protocolName,
    });
    ctx.responseHeader.set("x-answer", "header");
    ctx.responseTrailer.set("x-answer-trailer", "trailer");
    return {
      keyMetadata: { keyId: req.keyId, description: ctx.requestHeader.get("x-echo") ?? "" },
    };
  },
  generateDataKey(req) {
    if (req.keyId === "plain-error") throw new Error("not a ConnectError");
    throw new ConnectError("refused with details", Code.FailedPrecondition, { "x-meta": "m" }, [
      { desc: StringValueSchema, value: { value: "why" } },
    ]);
  },
  // listKeys is left out: Unimplemented.
};

/** serverOf serves `handler` on a loopback h2c port. */
async function serverOf(
  handler: (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void,
) {
  const server = http2.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

let lean: Awaited<ReturnType<typeof serverOf>>;
let connect: Awaited<ReturnType<typeof serverOf>>;

beforeAll(async () => {
  const serve = createUnaryRpcServer({
    services: [[KmsAdminService, implementation as ServiceImpl<typeof KmsAdminService>]],
    acceptCompression: [compressionGzip, compressionBrotli],
    readMaxBytes: bodyLimitBytes,
  });
  lean = await serverOf((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const served = serve({
        req,
        res,
        path: req.url,
        body: Buffer.concat(chunks),
        contextValues: createContextValues(),
        onCode: () => {},
      });
      if (served === false) {
        res.writeHead(404);
        res.end("declined");
      }
    });
  });
  connect = await serverOf(
    connectNodeAdapter({
      routes: (router) => router.service(KmsAdminService, implementation),
      readMaxBytes: bodyLimitBytes,
      acceptCompression: [compressionGzip, compressionBrotli],
    }),
  );
});

afterAll(() => {
  lean?.server.close();
  connect?.server.close();
});

const transports = {
  connect: (baseUrl: string) => createConnectTransport({ baseUrl, httpVersion: "2" }),
  "connect binary": (baseUrl: string) =>
    createConnectTransport({ baseUrl, httpVersion: "2", useBinaryFormat: true }),
  grpc: (baseUrl: string) => createGrpcTransport({ baseUrl }),
  "grpc-web": (baseUrl: string) => createGrpcWebTransport({ baseUrl, httpVersion: "2" }),
};

/** outcome calls one method through a real client and keeps everything it observed. */
async function outcome(
  baseUrl: string,
  transport: keyof typeof transports,
  call: (client: ReturnType<typeof createClient<typeof KmsAdminService>>) => Promise<unknown>,
) {
  const client = createClient(KmsAdminService, transports[transport](baseUrl));
  const observed: Record<string, unknown> = {};
  try {
    observed.message = await call(client);
  } catch (e) {
    const err = ConnectError.from(e);
    observed.error = {
      code: err.code,
      message: err.rawMessage,
      meta: err.metadata.get("x-meta"),
      details: err.findDetails(StringValueSchema).map((d) => d.value),
    };
  }
  return observed;
}

describe.each(Object.keys(transports) as (keyof typeof transports)[])("over %s", (transport) => {
  it("keeps the headers and trailers a handler sets, and what it reads of its context", async () => {
    const run = async (url: string) => {
      const observed: Record<string, unknown> = {};
      const client = createClient(KmsAdminService, transports[transport](url));
      observed.message = await client.describeKey(
        { keyId: "k1" },
        {
          headers: { "x-echo": "echoed" },
          timeoutMs: 60_000,
          onHeader: (h) => {
            observed.header = h.get("x-answer");
          },
          onTrailer: (t) => {
            observed.trailer = t.get("x-answer-trailer");
          },
        },
      );
      const last = seen.at(-1);
      observed.context = {
        aborted: last?.signalAborted,
        protocol: last?.protocol,
        deadline: (last?.timeoutMs ?? 0) > 50_000,
      };
      return observed;
    };
    const fromLean = await run(lean.url);
    expect(fromLean).toMatchObject({ header: "header", trailer: "trailer" });
    expect(fromLean.context).toEqual({
      aborted: false,
      protocol: transport.split(" ")[0],
      deadline: true,
    });
    expect(fromLean).toEqual(await run(connect.url));
  });

  it("answers errors with metadata and details, plain errors and missing methods alike", async () => {
    for (const call of [
      (c: ReturnType<typeof createClient<typeof KmsAdminService>>) =>
        c.generateDataKey({ keyId: "k" }),
      (c: ReturnType<typeof createClient<typeof KmsAdminService>>) =>
        c.generateDataKey({ keyId: "plain-error" }),
      (c: ReturnType<typeof createClient<typeof KmsAdminService>>) => c.listKeys({}),
    ]) {
      const fromLean = await outcome(lean.url, transport, call);
      expect(fromLean.error).toBeDefined();
      expect(fromLean).toEqual(await outcome(connect.url, transport, call));
    }
  });
});

describe("raw answers", () => {
  /** raw sends one request and reads status, headers, body and trailers. */
  async function raw(url: string, headers: Record<string, string>, body: Uint8Array) {
    const session = http2.connect(url);
    try {
      const stream = session.request({ ":method": "POST", ...headers });
      const answer = readH2Answer(stream);
      stream.end(body);
      const { head, body: received, trailers } = await answer;
      const { date: _, ...rest } = head;
      return { head: rest, body: received.toString("hex"), trailers } as Record<string, unknown>;
    } finally {
      session.close();
    }
  }

  const describeKey = `/${KmsAdminService.typeName}/DescribeKey`;
  const generate = `/${KmsAdminService.typeName}/GenerateDataKey`;
  const request = toBinary(
    KmsAdminService.method.describeKey.input,
    create(KmsAdminService.method.describeKey.input, { keyId: "k1" }),
  );
  const cases: [string, Record<string, string>, Uint8Array][] = [
    [
      "gRPC, handler headers and trailers",
      { ":path": describeKey, "content-type": "application/grpc", te: "trailers" },
      grpcEnvelope(request),
    ],
    [
      "gRPC-Web, handler trailers in the trailer frame",
      { ":path": describeKey, "content-type": "application/grpc-web+proto" },
      grpcEnvelope(request),
    ],
    [
      "Connect, handler trailers as trailer- headers",
      { ":path": describeKey, "content-type": "application/proto" },
      request,
    ],
    [
      "gRPC, an error with details (grpc-status-details-bin)",
      { ":path": generate, "content-type": "application/grpc", te: "trailers" },
      grpcEnvelope(new Uint8Array(0)),
    ],
    [
      "Connect, an error with details",
      { ":path": generate, "content-type": "application/json" },
      Buffer.from("{}"),
    ],
  ];
  it.each(cases)("%s: the same bytes", async (_, headers, body) => {
    const fromLean = await raw(lean.url, headers, body);
    expect(fromLean.head).toMatchObject({ ":status": expect.any(Number) });
    expect(fromLean).toEqual(await raw(connect.url, headers, body));
  });

  it("declines what it does not serve, for connect to answer", async () => {
    const declined = await raw(
      lean.url,
      { ":path": describeKey, "content-type": "text/plain" },
      request,
    );
    expect(declined.head).toMatchObject({ ":status": 404 });
    const stream = await raw(
      lean.url,
      { ":path": `/${KmsAdminService.typeName}/NoSuch`, "content-type": "application/grpc" },
      grpcEnvelope(request),
    );
    expect(stream.head).toMatchObject({ ":status": 404 });
  });
});
