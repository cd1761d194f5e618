import http2 from "node:http2";
import { setTimeout as delay } from "node:timers/promises";
import { brotliCompressSync, gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { grpcEnvelope } from "../helpers/grpc-envelope.js";
import {
  answerBoundMs,
  apiPrefix,
  expectAliveAndQuiet,
  expectRssGrowthBelow,
  type Http1Response,
  logEntries,
  MiB,
  rawHttp1,
  rawRequest,
  sampleRss,
  signedRawPost,
  underAttack,
  useHostileGateway,
  withDeadline,
} from "./hostile-harness.js";

// Malformed RPC input over Connect, gRPC and gRPC-Web: protobuf that does not
// parse, envelopes whose length prefix lies, compressed bodies (gzip, br,
// bombs, unknown encodings). Malformed input is the caller's fault:
// InvalidArgument (HTTP 400 / grpc-status 3), never Internal (500 / 13); an
// unsigned caller gets Unauthenticated whatever its body.

const gw = useHostileGateway();

const service = "/kms.admin.v1.KmsAdminService";
/** badProto is a field tag whose varint never ends within 64 bits: no parser can read it. */
const badProto = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]);

/** connectPost sends a Connect unary request over HTTP/1.1, signed unless told otherwise. */
async function connectPost(
  method: string,
  body: Buffer,
  headers: Record<string, string>,
  signed = true,
) {
  const path = `${service}/${method}`;
  const { host: _, ...auth } = signed ? await signedRawPost(gw, path) : { host: "" };
  const res = await withDeadline(
    fetch(new URL(path, gw.url), { method: "POST", headers: { ...auth, ...headers }, body }),
    answerBoundMs,
    `Connect ${method}`,
  );
  const text = await res.text();
  let json: { code?: string; message?: string } | undefined;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

/**
 * signedRawPostOnce sends a signed POST over raw HTTP/1.1 with its body
 * byte-exact (and its Content-Length), asserts one answer came within
 * answerBoundMs, and returns it.
 */
async function signedRawPostOnce(
  path: string,
  body: Buffer,
  headers: Record<string, string>,
): Promise<Http1Response> {
  const signed = await signedRawPost(gw, path);
  const ex = await rawHttp1(
    gw.port,
    rawRequest(
      "POST",
      path,
      { ...signed, ...headers, "content-length": String(body.length) },
      body,
    ),
    { responses: 1 },
  );
  expect(ex.responses.length, `no answer within ${answerBoundMs} ms`).toBe(1);
  return ex.responses[0] as Http1Response;
}

/** GrpcAnswer is what a raw gRPC call over h2c saw. */
interface GrpcAnswer {
  httpStatus: number | undefined;
  grpcStatus: string | undefined;
  grpcMessage: string | undefined;
  rstCode: number | undefined;
  /** The stream closed before the wait ended. */
  closed: boolean;
  elapsedMs: number;
}

/**
 * grpcCall sends `body` (already framed, possibly lying) to a gRPC method
 * over h2c and reads status from the trailers (or a trailers-only answer).
 */
async function grpcCall(
  method: string,
  body: Buffer,
  options: { signed?: boolean; end?: boolean; headers?: Record<string, string> } = {},
): Promise<GrpcAnswer> {
  const path = `${service}/${method}`;
  const { host: _, ...auth } =
    options.signed === false ? { host: "" } : await signedRawPost(gw, path);
  const session = http2.connect(gw.url);
  session.on("error", () => {});
  const started = performance.now();
  try {
    const stream = session.request(
      {
        ":method": "POST",
        ":path": path,
        "content-type": "application/grpc+proto",
        te: "trailers",
        ...auth,
        ...options.headers,
      },
      { endStream: false },
    );
    stream.on("error", () => {});
    if (options.end === false) stream.write(body);
    else stream.end(body);
    let httpStatus: number | undefined;
    let status: http2.IncomingHttpHeaders = {};
    stream.on("response", (h) => {
      httpStatus = Number(h[":status"]);
      status = h;
    });
    stream.on("trailers", (t) => {
      status = { ...status, ...t };
    });
    stream.resume();
    const closed = await Promise.race([
      new Promise<boolean>((resolve) => stream.once("close", () => resolve(true))),
      delay(answerBoundMs).then(() => false),
    ]);
    return {
      httpStatus,
      grpcStatus: status["grpc-status"] as string | undefined,
      grpcMessage: status["grpc-message"] as string | undefined,
      rstCode: closed ? stream.rstCode : undefined,
      closed,
      elapsedMs: performance.now() - started,
    };
  } finally {
    session.destroy();
  }
}

/** expectGrpcStatus asserts HTTP 200 and one of the given grpc-status codes (never 13, Internal). */
function expectGrpcStatus(answer: GrpcAnswer, codes: string[]): void {
  expect(answer.closed, `no answer within ${answerBoundMs} ms`).toBe(true);
  expect(answer.httpStatus).toBe(200);
  expect(answer.grpcStatus, `grpc-message: ${answer.grpcMessage}`).not.toBe("13");
  expect(codes).toContain(answer.grpcStatus);
}

describe("Connect binary protobuf that does not parse", () => {
  it("signed: 400 invalid_argument, not 500", async () => {
    const res = await connectPost("GenerateDataKey", badProto, {
      "content-type": "application/proto",
    });
    expect(res.status, res.text).toBe(400);
    expect(res.json?.code).toBe("invalid_argument");
  });

  it("unsigned: 401 unauthenticated, whatever the body", async () => {
    const res = await connectPost(
      "GenerateDataKey",
      badProto,
      { "content-type": "application/proto" },
      false,
    );
    expect(res.status, res.text).toBe(401);
    expect(res.json?.code).toBe("unauthenticated");
  });

  it("signed Connect JSON that is not JSON: 400 invalid_argument", async () => {
    const res = await connectPost("GenerateDataKey", Buffer.from("{not json"), {
      "content-type": "application/json",
    });
    expect(res.status, res.text).toBe(400);
    expect(res.json?.code).toBe("invalid_argument");
  });
});

describe("gRPC frames", () => {
  it.each([
    ["a message that does not parse", grpcEnvelope(badProto), ["3"]],
    [
      "a length prefix of 1000 over 6 bytes, then END_STREAM",
      grpcEnvelope(badProto, { declaredLength: 1000 }),
      ["3"],
    ],
    [
      "a length prefix of 4 GiB - 1",
      grpcEnvelope(badProto, { declaredLength: 0xffffffff }),
      ["3", "8"],
    ],
    ["a frame header cut after 3 bytes", Buffer.from([0, 0, 0]), ["3"]],
    [
      "two messages for a unary method",
      Buffer.concat([grpcEnvelope(Buffer.alloc(0)), grpcEnvelope(Buffer.alloc(0))]),
      // Unimplemented is what gRPC implementations answer to a cardinality violation.
      ["3", "12"],
    ],
    ["an unknown flag byte", grpcEnvelope(Buffer.alloc(0), { flag: 0x80 }), ["3"]],
  ])(
    "signed, %s: grpc-status InvalidArgument (or the code listed), never Internal",
    async (_, body, codes) => {
      const answer = await grpcCall("GenerateDataKey", body);
      expectGrpcStatus(answer, codes);
    },
  );

  it("unsigned, a message that does not parse: grpc-status 16 (Unauthenticated), logged as such", async () => {
    const mark = gw.logLines.length;
    const answer = await grpcCall("GenerateDataKey", grpcEnvelope(badProto), { signed: false });
    expectGrpcStatus(answer, ["16"]);
    // The access line names the protocol, the RPC, the real code and why authentication failed.
    await delay(100);
    const line = logEntries(gw.logLines.slice(mark)).find(
      (l) => l.message === "request" && l.protocol === "grpc",
    );
    expect(line, "an access line with protocol grpc").toBeDefined();
    expect(line).toMatchObject({
      rpc: "kms.admin.v1.KmsAdminService/GenerateDataKey",
      code: "unauthenticated",
      authError: expect.any(String),
      reqId: expect.any(String),
      remote: expect.any(String),
    });
  });

  it("signed, a length prefix of 1 MiB with the body never sent: the stream ends by the body deadline", async () => {
    const answer = await underAttack(gw, () =>
      grpcCall("GenerateDataKey", grpcEnvelope(Buffer.from("x"), { declaredLength: MiB - 10 }), {
        end: false,
      }),
    );
    expect(answer.closed, `stream still open after ${answerBoundMs} ms`).toBe(true);
    expect(answer.httpStatus ?? 0).toBeLessThan(500);
    expect(answer.grpcStatus).not.toBe("13");
  });

  it("gRPC-Web over HTTP/1.1, a message that does not parse: grpc-status 3", async () => {
    const res = await signedRawPostOnce(`${service}/GenerateDataKey`, grpcEnvelope(badProto), {
      "content-type": "application/grpc-web+proto",
    });
    expect(res.status).toBe(200);
    // Trailers-only answers carry grpc-status in the headers, others in a trailer frame.
    const grpcStatus =
      res.headers["grpc-status"] ?? /grpc-status:\s*(\d+)/.exec(res.body.toString("latin1"))?.[1];
    expect(grpcStatus).toBe("3");
  });
});

describe("compressed bodies", () => {
  const statusJson = Buffer.from("{}");

  it.each([
    ["gzip", gzipSync(statusJson)],
    ["br", brotliCompressSync(statusJson)],
  ])("Connect with Content-Encoding: %s is decompressed and served", async (encoding, body) => {
    const res = await connectPost("GetStatus", body, {
      "content-type": "application/json",
      "content-encoding": encoding,
    });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toHaveProperty("status", "Running");
  });

  it.each(["zstd", "compress", "x-hostile"])(
    "Connect with Content-Encoding: %s gets a 4xx naming gzip and br",
    async (encoding) => {
      const res = await connectPost("GetStatus", statusJson, {
        "content-type": "application/json",
        "content-encoding": encoding,
      });
      expect(res.status, res.text).toBeGreaterThanOrEqual(400);
      expect(res.status, res.text).toBeLessThan(500);
      expect(res.text).toMatch(/gzip/);
      expect(res.text).toMatch(/br/);
    },
  );

  it("a Connect gzip bomb (16 MiB of zeros) is refused as too large, memory bounded", async () => {
    const bomb = gzipSync(Buffer.alloc(16 * MiB, 0x20));
    const rss = sampleRss(gw);
    const res = await underAttack(gw, () =>
      connectPost("GetStatus", bomb, {
        "content-type": "application/json",
        "content-encoding": "gzip",
      }),
    );
    expectRssGrowthBelow(rss.stop(), 24 * MiB);
    expect([413, 429], res.text).toContain(res.status);
    expect(res.json?.code).toBe("resource_exhausted");
  });

  it("gRPC with grpc-encoding gzip and a compressed frame is served", async () => {
    const answer = await grpcCall(
      "GetStatus",
      grpcEnvelope(gzipSync(Buffer.alloc(0)), { flag: 1 }),
      {
        headers: { "grpc-encoding": "gzip" },
      },
    );
    expectGrpcStatus(answer, ["0"]);
  });

  it("a gRPC gzip bomb is refused with ResourceExhausted, memory bounded", async () => {
    const bomb = gzipSync(Buffer.alloc(16 * MiB, 0));
    const rss = sampleRss(gw);
    const answer = await underAttack(gw, () =>
      grpcCall("GetStatus", grpcEnvelope(bomb, { flag: 1 }), {
        headers: { "grpc-encoding": "gzip" },
      }),
    );
    expectRssGrowthBelow(rss.stop(), 24 * MiB);
    expectGrpcStatus(answer, ["8"]);
  });

  it("REST with Content-Encoding: gzip is never a 5xx", async () => {
    const body = gzipSync(Buffer.from('{"key_id":"nope"}'));
    const res = await signedRawPostOnce(`${apiPrefix}/generate-data-key`, body, {
      "content-type": "application/json",
      "content-encoding": "gzip",
    });
    expect(res.status, res.body.toString()).toBeGreaterThanOrEqual(400);
    expect(res.status, res.body.toString()).toBeLessThan(500);
  });
});

it("is still alive, serves signed requests and logged no error", async () => {
  await expectAliveAndQuiet(gw);
});
