import { rm } from "node:fs/promises";
import http from "node:http";
import http2 from "node:http2";
import { gunzipSync, gzipSync } from "node:zlib";
import {
  create,
  type DescMessage,
  fromBinary,
  fromJsonString,
  type JsonValue,
  toBinary,
  toJson,
} from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KmsAdminService } from "../../gen/kms/admin/v1/service_pb.js";
import { createStaticCredentialStore } from "../../src/auth/credential-store.js";
import { createRootIdentity } from "../../src/auth/identity.js";
import { createGateway, type Gateway } from "../../src/server/gateway.js";
import { createLogger } from "../../src/server/logger.js";
import { newDataDir } from "../helpers/gateway-process.js";
import { grpcEnvelope } from "../helpers/grpc-envelope.js";
import { readH2Answer } from "../helpers/h2-answer.js";
import { signedHeaders, testCredentials } from "../helpers/signed-fetch.js";
import { signRpc } from "../helpers/sigv4-headers.js";

// Issue 6, item 5: unary KmsAdminService calls are served by a lean path
// (createUnaryRpcServer) instead of connect-node's handlers. Clients must not be
// able to tell: the same raw requests — successes, KMS errors, malformed frames,
// compression, bad timeouts, oversize bodies, bad content types, unauthenticated
// calls — go to a gateway on each path, and the answers (status, headers, body
// bytes, trailers) and the access-log fields (protocol, rpc, status, code) must be
// the same. Only what differs between any two calls is masked: the date header, and
// in successful answers fresh key material and creation dates.

type Line = Record<string, unknown>;

interface Side {
  gateway: Gateway;
  url: string;
  dataDir: string;
  lines: Line[];
  session?: http2.ClientHttp2Session;
}

const sides: Record<"lean" | "connect", Side> = {} as Record<"lean" | "connect", Side>;

async function startSide(unaryRpc: "lean" | "connect"): Promise<Side> {
  const dataDir = newDataDir();
  const lines: Line[] = [];
  const gateway = await createGateway({
    dataDir,
    credentials: createStaticCredentialStore([
      {
        identity: createRootIdentity(testCredentials.accessKeyId),
        secretKey: testCredentials.secretAccessKey,
      },
    ]),
    log: createLogger((line) => lines.push(JSON.parse(line) as Line)),
    unaryRpc,
  });
  const { engine } = gateway;
  await engine.configure({ backendType: "local", enableCache: true });
  await engine.start();
  await engine.createKey({ description: "conformance", tags: { name: "conf-key" } });
  await engine.createKey({ description: "pending", tags: { name: "conf-pending" } });
  await engine.scheduleKeyDeletion("conf-pending", 7);
  // Enough keys for a list answer over 1 KiB, which connect compresses when asked.
  for (let i = 0; i < 12; i++) {
    await engine.createKey({
      description: `a description long enough to make the page large ${i}`,
      tags: { name: `conf-list-${String(i).padStart(2, "0")}` },
    });
  }
  const { port } = await gateway.listen("127.0.0.1", 0);
  return { gateway, url: `http://127.0.0.1:${port}`, dataDir, lines };
}

beforeAll(async () => {
  sides.lean = await startSide("lean");
  sides.connect = await startSide("connect");
}, 60_000);

afterAll(async () => {
  for (const side of Object.values(sides)) {
    side.session?.close();
    await side.gateway.close();
    await rm(side.dataDir, { recursive: true, force: true });
  }
});

/** Wire is one way of carrying a call: protocol, encoding and HTTP version. */
interface Wire {
  name: string;
  contentType: string;
  framed: boolean;
  json: boolean;
  h2: boolean;
  encodingHeader: string;
  acceptEncodingHeader: string;
  timeoutHeader: string;
}

const wires: Wire[] = [
  wire("connect+json http/1.1", "application/json", false, false),
  wire("connect+proto h2c", "application/proto", false, true),
  wire("connect+json h2c (charset)", "application/json; charset=utf-8", false, true),
  wire("grpc+proto h2c", "application/grpc", true, true),
  wire("grpc+json h2c", "application/grpc+json", true, true),
  wire("grpc-web+proto http/1.1", "application/grpc-web+proto", true, false),
  wire("grpc-web+json h2c", "application/grpc-web+json", true, true),
];

function wire(name: string, contentType: string, framed: boolean, h2: boolean): Wire {
  const connect = !framed;
  return {
    name,
    contentType,
    framed,
    json: contentType.includes("json"),
    h2,
    encodingHeader: connect ? "content-encoding" : "grpc-encoding",
    acceptEncodingHeader: connect ? "accept-encoding" : "grpc-accept-encoding",
    timeoutHeader: connect ? "connect-timeout-ms" : "grpc-timeout",
  };
}

/** Call is one raw request: method, body bytes as sent (framing included), headers. */
interface Call {
  method?: string;
  rpc?: string;
  path?: string;
  body: Uint8Array;
  headers?: Record<string, string>;
  signed?: boolean;
}

/** Answer is what a client sees of one call. */
interface Answer {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
  trailers: Record<string, string | string[]>;
}

const rpcPath = (rpc: string) => `/${KmsAdminService.typeName}/${rpc}`;

async function send(side: Side, w: Wire, call: Call, reqId: string): Promise<Answer> {
  const path = call.path ?? rpcPath(call.rpc ?? "DescribeKey");
  const method = call.method ?? "POST";
  const signature =
    call.signed === false
      ? {}
      : method === "POST"
        ? await signRpc(`${side.url}${path}`)
        : await signedHeaders(side.url, method, path);
  const headers: Record<string, string> = {
    ...signature,
    "content-type": w.contentType,
    "x-request-id": reqId,
    ...(w.framed ? { te: "trailers" } : {}),
    ...call.headers,
  };
  delete headers.host;
  return w.h2
    ? sendH2(side, method, path, headers, call.body)
    : sendH1(side, method, path, headers, call.body);
}

async function sendH2(
  side: Side,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: Uint8Array,
): Promise<Answer> {
  side.session ??= http2.connect(side.url);
  const stream = side.session.request(
    { ":method": method, ":path": path, ...headers },
    { endStream: method === "GET" },
  );
  const answer = readH2Answer(stream);
  // A GET stream is ended with its headers.
  if (method === "GET") stream.end();
  else stream.end(body);
  const { head, body: received, trailers } = await answer;
  return {
    status: Number(head[":status"]),
    headers: plain(head),
    body: received,
    trailers: plain(trailers),
  };
}

function sendH1(
  side: Side,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: Uint8Array,
): Promise<Answer> {
  const url = new URL(path, side.url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method, headers: { ...headers, "content-length": String(body.byteLength) }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", reject);
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: plain(res.headers),
            body: Buffer.concat(chunks),
            trailers: plain(res.trailers),
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** plain drops pseudo-headers and the date; the request id, sent the same to both, stays. */
function plain(headers: http.IncomingHttpHeaders | http2.IncomingHttpHeaders) {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(":") || value === undefined) continue;
    if (name === "date") continue;
    out[name] = value;
  }
  return out;
}

/** volatile names the fields of successful answers that differ on every call or gateway. */
const volatile = /date|plaintext|ciphertext|created/i;

/**
 * comparable turns an answer into what must be equal on both paths. Error answers
 * (and trailers, frames' flags and lengths) are kept byte for byte; a successful
 * answer's messages are decoded and their volatile fields replaced by their shape.
 */
function comparable(answer: Answer, w: Wire, output: DescMessage) {
  const { headers, trailers } = answer;
  const ok = answer.status === 200 && (answer.trailers["grpc-status"] ?? "0") === "0";
  const encoding = headers[w.encodingHeader];
  const decode = (bytes: Buffer, compressed: boolean) => {
    const plainBytes = compressed && encoding === "gzip" ? gunzipSync(bytes) : bytes;
    const message = w.json
      ? fromJsonString(output, plainBytes.toString("utf8"))
      : fromBinary(output, plainBytes);
    return mask(toJson(output, message));
  };
  if (!w.framed) {
    if (!ok || answer.body.byteLength === 0)
      return { ...answer, body: answer.body.toString("utf8") };
    const { "content-length": _, ...rest } = headers;
    return { status: answer.status, headers: rest, message: decode(answer.body, true), trailers };
  }
  const frames: unknown[] = [];
  let at = 0;
  let masked = false;
  while (at + 5 <= answer.body.byteLength) {
    const flags = answer.body[at] as number;
    const length = answer.body.readUInt32BE(at + 1);
    const data = answer.body.subarray(at + 5, at + 5 + length);
    if ((flags & 0x80) === 0 && ok) {
      frames.push({ flags, message: decode(data, (flags & 1) === 1) });
      masked = true;
    } else {
      frames.push({ flags, length, data: data.toString("utf8") });
    }
    at += 5 + length;
  }
  frames.push({ rest: answer.body.subarray(at).toString("hex") });
  const { "content-length": _, ...rest } = headers;
  return { status: answer.status, headers: masked ? rest : headers, frames, trailers };
}

function mask(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(mask);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        volatile.test(k) && v !== null ? shapeOf(v) : mask(v as JsonValue),
      ]),
    );
  }
  return value;
}

/**
 * shapeOf is what a volatile value must share on both paths: its type and length, or for
 * a timestamp just that it is one, since protobuf JSON drops a zero fraction
 * (`…:05Z` for a key created on the second, `…:05.123Z` otherwise).
 */
function shapeOf(v: JsonValue): string {
  if (typeof v === "string" && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(v)) {
    return "<timestamp>";
  }
  return `<${typeof v} ${String(v).length}>`;
}

/** encodeRequest serializes a request message for a wire, framed when the wire frames. */
function encodeRequest(
  w: Wire,
  schema: DescMessage,
  init: Record<string, unknown>,
  frame: { gzip?: boolean } = {},
): Uint8Array {
  const message = create(schema, init);
  let bytes: Uint8Array = w.json
    ? Buffer.from(JSON.stringify(toJson(schema, message)))
    : toBinary(schema, message);
  if (frame.gzip) bytes = gzipSync(bytes);
  return w.framed ? grpcEnvelope(bytes, { flag: frame.gzip ? 1 : 0 }) : bytes;
}

/** raw frames arbitrary bytes as the wire's body. */
function raw(w: Wire, bytes: Uint8Array, flag = 0): Uint8Array {
  return w.framed ? grpcEnvelope(bytes, { flag }) : bytes;
}

const methods = KmsAdminService.method;

/** cases are the calls sent over every wire, with the output schema to decode successes. */
const cases: [string, (w: Wire) => Call & { output: DescMessage }][] = [
  [
    "DescribeKey, found",
    (w) => ({
      rpc: "DescribeKey",
      body: encodeRequest(w, methods.describeKey.input, { keyId: "conf-key" }),
      output: methods.describeKey.output,
    }),
  ],
  [
    "GenerateDataKey with an encryption context",
    (w) => ({
      rpc: "GenerateDataKey",
      body: encodeRequest(w, methods.generateDataKey.input, {
        keyId: "conf-key",
        encryptionContext: { bucket: "b" },
      }),
      output: methods.generateDataKey.output,
    }),
  ],
  [
    "ListKeys, a page over 1 KiB, gzip accepted",
    (w) => ({
      rpc: "ListKeys",
      body: encodeRequest(w, methods.listKeys.input, { limit: 20 }),
      headers: { [w.acceptEncodingHeader]: "gzip" },
      output: methods.listKeys.output,
    }),
  ],
  [
    "ListKeys, br preferred",
    (w) => ({
      rpc: "ListKeys",
      body: encodeRequest(w, methods.listKeys.input, { limit: 1 }),
      headers: { [w.acceptEncodingHeader]: "br, gzip" },
      output: methods.listKeys.output,
    }),
  ],
  [
    "DescribeKey, a gzip request",
    (w) => ({
      rpc: "DescribeKey",
      body: encodeRequest(w, methods.describeKey.input, { keyId: "conf-key" }, { gzip: true }),
      headers: { [w.encodingHeader]: "gzip" },
      output: methods.describeKey.output,
    }),
  ],
  [
    "DescribeKey, unknown key (NotFound)",
    (w) => ({
      rpc: "DescribeKey",
      body: encodeRequest(w, methods.describeKey.input, { keyId: "no-such-key" }),
      output: methods.describeKey.output,
    }),
  ],
  [
    "GenerateDataKey, key pending deletion (FailedPrecondition)",
    (w) => ({
      rpc: "GenerateDataKey",
      body: encodeRequest(w, methods.generateDataKey.input, { keyId: "conf-pending" }),
      output: methods.generateDataKey.output,
    }),
  ],
  [
    "DescribeKey, invalid key id",
    (w) => ({
      rpc: "DescribeKey",
      body: encodeRequest(w, methods.describeKey.input, { keyId: "bad id!" }),
      output: methods.describeKey.output,
    }),
  ],
  [
    "a body that does not parse",
    (w) => ({
      rpc: "DescribeKey",
      body: raw(w, w.json ? Buffer.from('{"keyId": ') : Buffer.from([0x0a, 0x20, 0x61])),
      output: methods.describeKey.output,
    }),
  ],
  [
    "JSON with an unknown field and a wrong type",
    (w) => ({
      rpc: "DescribeKey",
      body: raw(w, w.json ? Buffer.from('{"keyId": 5, "other": 1}') : Buffer.from([0x08, 0x05])),
      output: methods.describeKey.output,
    }),
  ],
  [
    "a __proto__ map key",
    (w) => {
      const field = methods.generateDataKey.input.fields.find(
        (f) => f.localName === "encryptionContext",
      );
      const writer = new BinaryWriter();
      writer.tag(field?.number ?? 0, WireType.LengthDelimited).fork();
      writer.tag(1, WireType.LengthDelimited).string("__proto__");
      writer.tag(2, WireType.LengthDelimited).string("v");
      writer.join();
      return {
        rpc: "GenerateDataKey",
        body: raw(
          w,
          w.json
            ? Buffer.from('{"keyId":"conf-key","encryptionContext":{"__proto__":"v"}}')
            : writer.finish(),
        ),
        output: methods.generateDataKey.output,
      };
    },
  ],
  [
    "an unsupported request encoding",
    (w) => ({
      rpc: "DescribeKey",
      body: raw(w, Buffer.from("zstd?"), 1),
      headers: { [w.encodingHeader]: "zstd" },
      output: methods.describeKey.output,
    }),
  ],
  [
    "a gzip body that inflates past 1 MiB",
    (w) => ({
      rpc: "DescribeKey",
      body: raw(w, gzipSync(Buffer.alloc(2 * 1024 * 1024)), 1),
      headers: { [w.encodingHeader]: "gzip" },
      output: methods.describeKey.output,
    }),
  ],
  [
    "a gzip header on a body that is not gzip",
    (w) => ({
      rpc: "DescribeKey",
      body: raw(w, Buffer.from("not gzip"), 1),
      headers: { [w.encodingHeader]: "gzip" },
      output: methods.describeKey.output,
    }),
  ],
  [
    "a frame whose length prefix lies, or an empty body",
    (w) => ({
      rpc: "DescribeKey",
      body: w.framed ? grpcEnvelope(Buffer.from("abc"), { declaredLength: 10 }) : new Uint8Array(0),
      output: methods.describeKey.output,
    }),
  ],
  [
    "a compressed frame without an encoding header",
    (w) => ({
      rpc: "DescribeKey",
      body: raw(w, gzipSync(Buffer.from("x")), 1),
      output: methods.describeKey.output,
    }),
  ],
  [
    "a timeout header that does not parse",
    (w) => ({
      rpc: "DescribeKey",
      body: encodeRequest(w, methods.describeKey.input, { keyId: "conf-key" }),
      headers: { [w.timeoutHeader]: "soon" },
      output: methods.describeKey.output,
    }),
  ],
  [
    "a bad timeout header and a malformed body: the timeout is reported",
    (w) => ({
      rpc: "DescribeKey",
      body: raw(w, Buffer.from([0xff, 0xff])),
      headers: { [w.timeoutHeader]: "x" },
      output: methods.describeKey.output,
    }),
  ],
  [
    "a deadline already past when the call starts",
    (w) => ({
      rpc: "DescribeKey",
      body: encodeRequest(w, methods.describeKey.input, { keyId: "conf-key" }),
      headers: { [w.timeoutHeader]: w.framed ? "1n" : "0" },
      output: methods.describeKey.output,
    }),
  ],
  [
    "a generous deadline",
    (w) => ({
      rpc: "GenerateDataKey",
      body: encodeRequest(w, methods.generateDataKey.input, { keyId: "conf-key" }),
      headers: { [w.timeoutHeader]: w.framed ? "30S" : "30000" },
      output: methods.generateDataKey.output,
    }),
  ],
  [
    "unauthenticated",
    (w) => ({
      rpc: "DescribeKey",
      body: encodeRequest(w, methods.describeKey.input, { keyId: "conf-key" }),
      signed: false,
      output: methods.describeKey.output,
    }),
  ],
  [
    "an unknown method",
    (w) => ({
      path: `/${KmsAdminService.typeName}/NoSuchMethod`,
      body: encodeRequest(w, methods.describeKey.input, { keyId: "conf-key" }),
      output: methods.describeKey.output,
    }),
  ],
  [
    "GET instead of POST",
    () => ({
      method: "GET",
      rpc: "GetStatus",
      body: new Uint8Array(0),
      output: methods.getStatus.output,
    }),
  ],
  [
    "a body over 1 MiB",
    (w) => ({
      rpc: "DescribeKey",
      body: raw(w, Buffer.alloc(1024 * 1024 + 10, 0x20)),
      output: methods.describeKey.output,
    }),
  ],
];

const contentTypeCases: [string, string][] = [
  ["text/plain", "a content type no protocol serves"],
  ["application/connect+json", "a streaming content type on a unary method"],
  ["application/grpc-web-text", "gRPC-Web text"],
];

describe.each(wires.map((w) => [w.name, w] as const))(
  "over %s, the lean path answers as connect-node does",
  (_, w) => {
    it.each(cases)("%s", async (name, make) => {
      const { output, ...call } = make(w);
      const reqId = `${w.name}-${name}`.replace(/[^A-Za-z0-9._:-]+/g, "-").slice(0, 120);
      const lean = await send(sides.lean, w, call, reqId);
      const connect = await send(sides.connect, w, call, reqId);
      expect(comparable(lean, w, output)).toEqual(comparable(connect, w, output));
      // Identical auth failures are logged once per window (then summed up), so an
      // unauthenticated call has an access line only the first time.
      if (call.signed === false) return;
      await expect.poll(() => accessLine(sides.lean, reqId)).toBeDefined();
      await expect.poll(() => accessLine(sides.connect, reqId)).toBeDefined();
      expect(accessLine(sides.lean, reqId)).toEqual(accessLine(sides.connect, reqId));
    });
  },
);

describe("content types the lean path leaves to connect", () => {
  it.each(contentTypeCases)("%s (%s)", async (contentType) => {
    const w = { ...wire(contentType, contentType, false, true) };
    const call = { rpc: "DescribeKey", body: Buffer.from('{"keyId":"conf-key"}') };
    const reqId = `ct-${contentType.replace(/[^A-Za-z0-9]+/g, "-")}`;
    const lean = await send(sides.lean, w, call, reqId);
    const connect = await send(sides.connect, w, call, reqId);
    expect(lean).toEqual(connect);
    expect(lean.status).toBe(415);
  });
});

describe("the conformance harness itself", () => {
  it("sees successes as successes and errors as the codes clients expect", async () => {
    const [grpc] = wires.filter((w) => w.name.startsWith("grpc+proto"));
    const [json] = wires.filter((w) => w.name.startsWith("connect+json http"));
    if (grpc === undefined || json === undefined) throw new Error("wires missing");
    const ok = await send(sides.lean, grpc, caseNamed("DescribeKey, found")(grpc), "h-ok");
    expect(ok.status).toBe(200);
    expect(ok.trailers["grpc-status"]).toBe("0");
    const found = fromBinary(methods.describeKey.output, ok.body.subarray(5));
    expect(found.keyMetadata?.keyId).toBe("conf-key");
    const missing = await send(
      sides.lean,
      json,
      caseNamed("DescribeKey, unknown key (NotFound)")(json),
      "h-nf",
    );
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body.toString("utf8"))).toMatchObject({ code: "not_found" });
    const bomb = await send(
      sides.lean,
      grpc,
      caseNamed("a gzip body that inflates past 1 MiB")(grpc),
      "h-rx",
    );
    expect(bomb.trailers["grpc-status"]).toBe("8");
    // A deadline is validated (a malformed one is InvalidArgument) but cuts no KMS call
    // short on either path: connect-node hands it to the handler's signal only.
    const late = await send(
      sides.lean,
      grpc,
      caseNamed("a deadline already past when the call starts")(grpc),
      "h-dl",
    );
    expect(late.trailers["grpc-status"]).toBe("0");
    const bad = await send(
      sides.lean,
      grpc,
      caseNamed("a timeout header that does not parse")(grpc),
      "h-bt",
    );
    expect(bad.trailers["grpc-status"]).toBe("3");
    expect(decodeURIComponent(String(bad.trailers["grpc-message"]))).toContain(
      "invalid grpc timeout",
    );
    // The lean path is the one serving: its access line names the same code, and a
    // gateway on connect-node logs the same (checked in every case above).
    await expect
      .poll(() => accessLine(sides.lean, "h-ok"))
      .toMatchObject({ code: "ok", status: 200 });
  });
});

/** caseNamed finds a case by its name. */
function caseNamed(name: string) {
  const found = cases.find(([n]) => n === name);
  if (found === undefined) throw new Error(`no case ${name}`);
  return found[1];
}

/** accessLine is the fields of a request's access line that both paths must agree on. */
function accessLine(side: Side, reqId: string) {
  const line = side.lines.find((l) => l.message === "request" && l.reqId === reqId);
  if (line === undefined) return undefined;
  const { protocol, rpc, status, code, method, path, caller, authError } = line;
  return { protocol, rpc, status, code, method, path, caller, authError };
}
