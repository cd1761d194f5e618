import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { create, type DescMessage, type DescService } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ContextValues,
  createServiceImplSpec,
  type MethodImplSpec,
  type ServiceImpl,
} from "@connectrpc/connect";
import {
  type Compression,
  compressionNegotiate,
  createMethodSerializationLookup,
  encodeEnvelope,
  getJsonOptions,
  type MethodSerializationLookup as SerializationLookup,
} from "@connectrpc/connect/protocol";
import {
  codeToHttpStatus,
  codeToString,
  errorToJsonBytes,
  parseTimeout as parseConnectTimeout,
  trailerMux,
} from "@connectrpc/connect/protocol-connect";
import {
  parseTimeout as parseGrpcTimeout,
  setTrailerStatus,
} from "@connectrpc/connect/protocol-grpc";
import { trailerFlag, trailerSerialize } from "@connectrpc/connect/protocol-grpc-web";
import { compileRestJsonReader } from "../rest/compiled-json-reader.js";
import { compileProtoJsonWriter, type ProtoJsonWriter } from "../rest/json-writer.js";
import { createLazyHandlerContext } from "../rest/lazy-handler-context.js";
import {
  encodingHeaders,
  type RpcFraming,
  rpcFramingOf,
  screenRpcBody,
} from "./screen-rpc-request.js";

type NodeRequest = IncomingMessage | Http2ServerRequest;
type NodeResponse = ServerResponse | Http2ServerResponse;

/** UnaryRpcCall is one authenticated (or public) RPC whose whole body the edge has read. */
export interface UnaryRpcCall {
  req: NodeRequest;
  res: NodeResponse;
  /** The request path, `/package.Service/Method`. */
  path: string;
  /** The whole request body, at most the edge's 1 MiB. */
  body: Uint8Array;
  /** Context values for the handler (the verified caller). */
  contextValues: ContextValues;
  /** Called with the call's RPC code name (`ok`, `not_found`, …) before the answer is written. */
  onCode(code: string): void;
}

/**
 * UnaryRpcServer serves a call on the lean path (resolving once it is answered), or returns false at
 * once when the call is not one it serves (not a unary method it knows, not POST, or a
 * content type connect would not serve as unary): the caller hands those to connect,
 * whose answer (404, 405, 415, streaming) they keep.
 */
export type UnaryRpcServer = (call: UnaryRpcCall) => Promise<void> | false;

/** UnaryRpcServerOptions mirror the connect router options the lean path must agree with. */
export interface UnaryRpcServerOptions {
  /** Each service and its implementation; every unary method of each is served. */
  services: [DescService, ServiceImpl<DescService>][];
  /** Response compressions, in the router's order (gzip, br). */
  acceptCompression: Compression[];
  /** The router's readMaxBytes (a parsed message over it is ResourceExhausted). */
  readMaxBytes: number;
}

/** Lookup is connect's per-method serializers. */
type Lookup = SerializationLookup<DescMessage, DescMessage>;

/** compressMinBytes is connect's default: smaller answers are never compressed. */
const compressMinBytes = 1024;

/** Method is one served method: its implementation and its serializers, made at start-up. */
interface Method {
  spec: MethodImplSpec & { kind: "unary" };
  serialization: Lookup;
  /** The output's compiled JSON writer, in front of connect's reflective JSON serializer. */
  writeJson: ProtoJsonWriter;
}

/**
 * createUnaryRpcServer serves the unary methods of the given services over Connect
 * (JSON and binary), gRPC and gRPC-Web on a lean path built from connect's exported
 * protocol helpers (timeout parsing, compression negotiation, serialization, envelope,
 * error JSON, trailer status and serialization), calling the same implementation.
 *
 * Why: a no-op unary call through connect-node's handlers costs several times a no-op
 * @grpc/grpc-js call. The profile puts that in per-call async-iterable pipelines
 * (prepend, split, decompress, parse, serialize, compress, join, catch), a linked abort
 * controller and a deadline controller per call, aborted on completion (each abort
 * builds a DOMException with a stack), three Headers per context, the node ⇄ WHATWG
 * header conversions and the request URL. A unary call has one whole message in and
 * one out; this path decodes it once (the edge's screening already parsed it), calls
 * the handler with a context that builds those parts only if read, and writes the
 * answer with one writeHead and one end. JSON is read and written by codecs compiled
 * from the descriptors at start-up (compileRestJsonReader, compileProtoJsonWriter), which
 * leave what they do not compile, and every error, to protobuf-es and connect.
 *
 * Every answer is byte-for-byte the one connect gives (the conformance test sends the
 * same calls to both): status, headers, trailers, error JSON, gRPC status and message,
 * compression; the order of checks is connect's (timeout header, then the body).
 * Interceptors are not run: the gateway's only one (rpcInputErrorInterceptor) throws
 * the screening verdict, which this path answers itself.
 */
export function createUnaryRpcServer(options: UnaryRpcServerOptions): UnaryRpcServer {
  const methods = new Map<string, Method>();
  for (const [service, implementation] of options.services) {
    const spec = createServiceImplSpec(service, implementation);
    for (const method of Object.values(spec.methods)) {
      if (method.kind !== "unary") continue;
      methods.set(`/${service.typeName}/${method.method.name}`, {
        spec: method,
        serialization: createMethodSerializationLookup(method.method, undefined, undefined, {
          readMaxBytes: options.readMaxBytes,
          writeMaxBytes: 0xffffffff,
        }),
        // connect's JSON write options are toJson's defaults (getJsonOptions only adds
        // ignoreUnknownFields, a read option).
        writeJson: compileProtoJsonWriter(method.method.output),
      });
      // Compiled (and cached) now, not on the first call: screening reads with it.
      compileRestJsonReader(method.method.input, { ignoreUnknownFields: true });
    }
  }
  const jsonOptions = getJsonOptions(undefined);

  return (call) => {
    const method = methods.get(call.path);
    if (method === undefined || call.req.method !== "POST") return false;
    const type = rpcFramingOf(headerOf(call.req, "content-type"));
    if (type === undefined) return false;
    return serve(method, type.framing, type.json, call);
  };

  async function serve(
    { spec, serialization, writeJson }: Method,
    framing: RpcFraming,
    json: boolean,
    call: UnaryRpcCall,
  ): Promise<void> {
    const { req, res } = call;
    const [encodingHeader, acceptEncodingHeader] = encodingHeaders[framing];
    const timeout =
      framing === "connect"
        ? parseConnectTimeout(headerOf(req, "connect-timeout-ms"), Number.MAX_SAFE_INTEGER)
        : parseGrpcTimeout(headerOf(req, "grpc-timeout"), Number.MAX_SAFE_INTEGER);
    // Screening inflated the request, so (as connect sees it) the request is not
    // compressed: without an accept header the answer is not compressed either.
    const accept = headerOf(req, acceptEncodingHeader);
    const compression =
      accept === null
        ? null
        : compressionNegotiate(options.acceptCompression, null, accept, acceptEncodingHeader)
            .response;
    const responseHeader: Record<string, string> = {
      "content-type": contentTypeOf(framing, json),
    };
    if (compression !== null && framing !== "connect") {
      responseHeader[encodingHeader] = compression.name;
    }
    const responseTrailer = framing === "connect" ? undefined : { "grpc-status": "0" };
    const ctx = createLazyHandlerContext({
      method: spec.method,
      protocolName: framing,
      requestMethod: "POST",
      url: () => urlOf(req),
      requestHeader: () => screenedHeaders(req, encodingHeader),
      onClientGone: (listener) => {
        res.once("close", listener);
        return () => res.off("close", listener);
      },
      contextValues: call.contextValues,
      responseHeader,
      responseTrailer,
      timeoutMs: timeout.timeoutMs,
    });
    let output: Uint8Array | undefined;
    let error: ConnectError | undefined;
    try {
      let screened = screenRpcBody(
        spec.method.input,
        framing,
        json,
        headerOf(req, encodingHeader),
        call.body,
      );
      if (screened instanceof Promise) screened = await screened;
      // connect raises a bad timeout header before it reads the body.
      if (timeout.error !== undefined) throw timeout.error;
      if ("error" in screened) throw screened.error;
      const result = await spec.impl(screened.parsed, ctx.context);
      const message = create(spec.method.output, result);
      // The compiled writer gives connect's JSON text or leaves the message (and any
      // error, which must be connect's) to connect's serializer. writeMaxBytes, 4 GiB,
      // is beyond any string the writer can build.
      const text = json ? writeJson(message) : undefined;
      output =
        text === undefined ? serialization.getO(!json).serialize(message) : Buffer.from(text);
    } catch (e) {
      error =
        e instanceof ConnectError
          ? e
          : new ConnectError("internal error", Code.Internal, undefined, undefined, e);
    } finally {
      ctx.end();
    }
    call.onCode(error === undefined ? "ok" : codeToString(error.code));

    const touchedHeader = ctx.touchedResponseHeader();
    const touchedTrailer = ctx.touchedResponseTrailer();
    if (error === undefined && touchedHeader === undefined && touchedTrailer === undefined) {
      // The common answer: a message and nothing the handler added, written from plain
      // objects (no Headers, which cost more than the rest of the answer).
      const message = output as Uint8Array;
      if (framing === "connect") {
        let body = message;
        if (compression !== null && body.byteLength >= compressMinBytes) {
          body = await compression.compress(body);
          responseHeader[encodingHeader] = compression.name;
        }
        responseHeader["content-length"] = String(body.byteLength);
        res.writeHead(200, responseHeader);
        res.end(body);
        return;
      }
      const frame = await envelope(0, message, compression);
      res.writeHead(200, responseHeader);
      if (framing === "grpc") {
        res.addTrailers({ "grpc-status": "0" });
        res.end(frame);
      } else {
        res.end(Buffer.concat([frame, okTrailerFrame]));
      }
      return;
    }
    const header = touchedHeader ?? new Headers(responseHeader);
    const trailer = touchedTrailer ?? new Headers(responseTrailer);

    if (framing === "connect") {
      let status = 200;
      let body: Uint8Array;
      if (error === undefined) {
        body = output as Uint8Array;
      } else {
        status = codeToHttpStatus(error.code);
        header.set("content-type", "application/json");
        error.metadata.forEach((value, key) => {
          header.set(key, value);
        });
        body = errorToJsonBytes(error, jsonOptions);
      }
      if (compression !== null && body.byteLength >= compressMinBytes) {
        body = await compression.compress(body);
        header.set(encodingHeader, compression.name);
      }
      const all = trailerMux(header, trailer);
      all.set("content-length", String(body.byteLength));
      res.writeHead(status, webHeaderToNodeHeaders(all));
      res.end(body);
      return;
    }

    if (error !== undefined) setTrailerStatus(trailer, error);
    const chunks: Uint8Array[] = [];
    if (output !== undefined) chunks.push(await envelope(0, output, compression));
    if (framing === "grpc") {
      res.writeHead(200, webHeaderToNodeHeaders(header));
      res.addTrailers(webHeaderToNodeHeaders(trailer));
    } else {
      chunks.push(await envelope(trailerFlag, trailerSerialize(trailer), compression));
      res.writeHead(200, webHeaderToNodeHeaders(header));
    }
    if (chunks.length === 0) res.end();
    else res.end(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
  }
}

/** okTrailerFrame is gRPC-Web's trailer frame of a call that ended well (never compressed: too small). */
const okTrailerFrame = encodeEnvelope(
  trailerFlag,
  trailerSerialize(new Headers({ "grpc-status": "0" })),
);

/**
 * envelope frames one message as connect's transformCompressEnvelope and
 * transformJoinEnvelopes do: compressed (flag bit 0) when a compression was
 * negotiated and the data is at least compressMinBytes.
 */
async function envelope(
  flags: number,
  data: Uint8Array,
  compression: Compression | null,
): Promise<Uint8Array> {
  if (compression !== null && data.byteLength >= compressMinBytes) {
    return encodeEnvelope(flags | 1, await compression.compress(data));
  }
  return encodeEnvelope(flags, data);
}

/** contentTypeOf is the response content type connect gives each framing. */
function contentTypeOf(framing: RpcFraming, json: boolean): string {
  switch (framing) {
    case "connect":
      return json ? "application/json" : "application/proto";
    case "grpc":
      return json ? "application/grpc+json" : "application/grpc+proto";
    case "grpc-web":
      return json ? "application/grpc-web+json" : "application/grpc-web+proto";
  }
}

/** headerOf reads one request header as WHATWG Headers.get would: repeats joined by ", ". */
function headerOf(req: NodeRequest, name: string): string | null {
  const value = req.headers[name];
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(", ") : value;
}

/** urlOf is the request's absolute URL as connect-node builds it. */
function urlOf(req: NodeRequest): string {
  const encrypted = "encrypted" in req.socket && req.socket.encrypted === true;
  const authority = "authority" in req ? req.authority : req.headers.host;
  return new URL(req.url ?? "", `${encrypted ? "https" : "http"}://${authority}`).toString();
}

/**
 * webHeaderToNodeHeaders converts WHATWG headers to the object writeHead and
 * addTrailers take, as connect-node's function of that name does (it is not exported):
 * repeated names (set-cookie) become arrays.
 */
function webHeaderToNodeHeaders(headers: Headers): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null);
  headers.forEach((value, key) => {
    const existing = out[key];
    if (existing === undefined) out[key] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else out[key] = [existing, value];
  });
  return out;
}

/**
 * screenedHeaders are the request headers a handler sees on the connect path: the
 * node headers minus HTTP/2 pseudo-headers, without the encoding header (screening
 * inflated the body).
 */
function screenedHeaders(req: NodeRequest, encodingHeader: string): Headers {
  const header = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.startsWith(":") || value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) header.append(name, one);
  }
  header.delete(encodingHeader);
  return header;
}
