import { promisify } from "node:util";
import * as zlib from "node:zlib";
import type { DescMessage, DescMethod, JsonValue, Message } from "@bufbuild/protobuf";
import { fromBinary } from "@bufbuild/protobuf";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import {
  Code,
  ConnectError,
  createContextKey,
  createContextValues,
  type Interceptor,
} from "@connectrpc/connect";
import { encodeEnvelope, type UniversalServerRequest } from "@connectrpc/connect/protocol";
import { FORBIDDEN_MAP_KEY, forbiddenMapKey } from "../rest/check-request-json.js";
import { exceedsJsonDepth, maxJsonDepth } from "../rest/json-depth.js";
import { messageFromJson } from "../rest/message-from-json.js";
import { errorCodeHeader } from "../service/connect-error-from-kms.js";
import { bodyLimitBytes } from "./read-body.js";
import { readWholeEnvelope } from "./whole-envelope.js";

/** supportedEncodings are the request compressions Connect and gRPC callers may use. */
export const supportedEncodings = ["gzip", "br"] as const;

/**
 * rpcInputErrorKey carries the verdict on a request body from the edge to
 * rpcInputErrorInterceptor: the error the call must end with, or undefined
 * when the body is fine.
 */
export const rpcInputErrorKey = createContextKey<ConnectError | undefined>(undefined, {
  description: "why the edge refused an RPC request body",
});

/**
 * rpcInputErrorInterceptor ends a call with the error the edge found in its
 * body (rpcInputErrorKey), before the handler runs. Throwing from inside
 * connect, rather than writing an answer at the edge, lets connect encode the
 * error the way each protocol expects (Connect JSON error with its HTTP status,
 * gRPC and gRPC-Web trailers).
 */
export const rpcInputErrorInterceptor: Interceptor = (next) => async (req) => {
  const error = req.contextValues.get(rpcInputErrorKey);
  if (error !== undefined) {
    throw error;
  }
  if (req.stream) {
    // A stream of request messages (reflection) cannot be buffered and
    // screened at the edge; its messages are parsed as the handler reads
    // them, so relabel connect's parse failure there instead.
    return next({ ...req, message: relabelParseErrors(req.message, req.method.input) });
  }
  return next(req);
};

/**
 * relabelParseErrors turns connect-node's "parse binary" failure, which it
 * reports as Internal (`createBinarySerialization` in
 * @connectrpc/connect/protocol 2.1.2), into the InvalidArgument it is. The
 * prefix is how that one error is told apart from real internal errors; a test
 * of a garbage reflection frame keeps it honest across upgrades.
 */
async function* relabelParseErrors<T>(
  messages: AsyncIterable<T>,
  input: DescMessage,
): AsyncIterable<T> {
  try {
    yield* messages;
  } catch (e) {
    if (
      e instanceof ConnectError &&
      e.code === Code.Internal &&
      e.rawMessage.startsWith("parse binary:")
    ) {
      throw invalid(`request is not a valid ${input.typeName} message`);
    }
    throw e;
  }
}

/** RpcFraming is how a unary RPC's body is framed: Connect unary (bare), gRPC or gRPC-Web (one envelope). */
export type RpcFraming = "connect" | "grpc" | "grpc-web";

/** Content types as connect-node recognises them for unary calls (its own regexps are private). */
const contentTypes: [RpcFraming, RegExp][] = [
  ["connect", /^application\/(?:(json)(?:; ?charset=utf-?8)?|proto)$/i],
  ["grpc", /^application\/grpc(?:\+(?:(json)(?:; ?charset=utf-?8)?|proto))?$/i],
  ["grpc-web", /^application\/grpc-web(?:\+(?:(json)(?:; ?charset=utf-?8)?|proto))?$/i],
];

/**
 * rpcFramingOf tells how connect would serve a request with this content type as a
 * unary call — Connect unary, gRPC or gRPC-Web, JSON or binary — or undefined when it
 * would not (it answers 415 then).
 */
export function rpcFramingOf(
  contentType: string | null | undefined,
): { framing: RpcFraming; json: boolean } | undefined {
  const type = contentType ?? "";
  for (const [framing, pattern] of contentTypes) {
    const match = pattern.exec(type);
    if (match !== null) {
      return { framing, json: match[1] !== undefined };
    }
  }
  return undefined;
}

/** encodingHeaders name the header that says how each framing's body is compressed. */
export const encodingHeaders: Record<RpcFraming, [encoding: string, acceptEncoding: string]> = {
  connect: ["content-encoding", "accept-encoding"],
  grpc: ["grpc-encoding", "grpc-accept-encoding"],
  "grpc-web": ["grpc-encoding", "grpc-accept-encoding"],
};

/**
 * screenRpcRequest looks at the whole, already-buffered body of an RPC with
 * one request message before connect parses it, and hands connect a request
 * it cannot mishandle:
 *
 * - **Compression** (`Content-Encoding` on Connect, `grpc-encoding` and the
 *   frame flag on gRPC and gRPC-Web): gzip and br are inflated here, at most
 *   1 MiB (over → ResourceExhausted, without inflating the rest); any other
 *   encoding is InvalidArgument naming the supported ones. Connect then gets
 *   the plain body with the encoding header removed, so nothing is inflated
 *   twice.
 * - **Parsing**: binary that does not parse is InvalidArgument (connect-node
 *   2.1.2 answers Internal from `createBinarySerialization`, a 5xx for the
 *   caller's mistake), as is a gRPC body that is not exactly one whole frame.
 * - **Lossy input**: a map key `__proto__`, which protobuf-es would drop, and
 *   in JSON an integer string that is not decimal (checkRequestJson), are
 *   InvalidArgument naming the field.
 *
 * A refused body is replaced by an empty valid message and the error is set
 * under rpcInputErrorKey for rpcInputErrorInterceptor to throw. Requests whose
 * content type connect would not serve as unary are passed on untouched, for
 * connect to refuse. Only methods with one request message (unary, server
 * streaming) are screened.
 */
export async function screenRpcRequest(
  method: DescMethod,
  request: UniversalServerRequest,
  body: Uint8Array,
): Promise<UniversalServerRequest> {
  const found = rpcFramingOf(request.header.get("content-type"));
  const single = method.methodKind === "unary" || method.methodKind === "server_streaming";
  if (!single || found === undefined) {
    return { ...request, body: oneChunk(body) };
  }
  const { framing, json } = found;
  const header = new Headers(request.header);
  const contextValues = request.contextValues ?? createContextValues();
  const encodingHeader = encodingHeaders[framing][0];
  header.delete(encodingHeader);
  const encoding = request.header.get(encodingHeader);
  const verdict = await screenRpcBody(method.input, framing, json, encoding, body);
  let message: Uint8Array;
  if ("error" in verdict) {
    contextValues.set(rpcInputErrorKey, verdict.error);
    message = emptyMessage(json);
  } else {
    message = verdict.message;
  }
  const plain = framing === "connect" ? message : encodeEnvelope(0, message);
  header.set("content-length", String(plain.byteLength));
  return { ...request, header, contextValues, body: oneChunk(plain) };
}

/**
 * ScreenedBody is a body that passed screening: its plain (unframed, inflated)
 * message, and the message screening already parsed from it, so it is not parsed twice.
 */
export interface ScreenedBody {
  message: Uint8Array;
  parsed: Message;
}

/** ScreenVerdict is a screened body or the error its call must end with. */
export type ScreenVerdict = ScreenedBody | { error: ConnectError };

/**
 * screenRpcBody unframes, inflates and checks the whole body of a unary RPC (see
 * screenRpcRequest for what is refused and why); `encoding` is the value of the
 * framing's encoding header. The plain message, or the error the call must end with.
 * Only a compressed body is answered asynchronously (inflating runs off the event
 * loop); the common, uncompressed body is screened at once, with no promise to await.
 */
export function screenRpcBody(
  input: DescMessage,
  framing: RpcFraming,
  json: boolean,
  encoding: string | null,
  body: Uint8Array,
): ScreenVerdict | Promise<ScreenVerdict> {
  try {
    let compressed: boolean;
    let payload: Uint8Array;
    if (framing === "connect") {
      compressed = true;
      payload = body;
    } else {
      [compressed, payload] = unframe(body);
    }
    const codec = encoding === null || encoding === "identity" ? undefined : encoding.trim();
    if (codec !== undefined && codec !== "gzip" && codec !== "br") {
      // A 4xx naming what works; gRPC's compression.md suggests Unimplemented,
      // but that is a 5xx (501) on Connect, and the mistake is the caller's.
      const error = invalid(
        `unsupported encoding ${JSON.stringify(codec.slice(0, 40))}: supported encodings are ${supportedEncodings.join(", ")}`,
      );
      error.metadata.set(encodingHeaders[framing][1], supportedEncodings.join(","));
      throw error;
    }
    if (codec !== undefined && compressed) {
      return inflate(codec, payload).then(
        (message) => checkMessage(input, json, message),
        verdictOf,
      );
    }
    if (compressed && framing !== "connect") {
      throw invalid("compressed gRPC frame without a grpc-encoding header");
    }
    return checkMessage(input, json, payload);
  } catch (e) {
    return verdictOf(e);
  }
}

/** checkMessage checks one plain message (JSON or binary) and keeps what it parsed. */
function checkMessage(input: DescMessage, json: boolean, message: Uint8Array): ScreenVerdict {
  try {
    return { message, parsed: json ? checkJson(input, message) : checkBinary(input, message) };
  } catch (e) {
    return verdictOf(e);
  }
}

/** verdictOf turns a refusal (a ConnectError) into a verdict; anything else is a bug and rethrown. */
function verdictOf(e: unknown): ScreenVerdict {
  if (e instanceof ConnectError) {
    return { error: e };
  }
  throw e;
}

/** unframe reads the one length-prefixed frame of a unary gRPC or gRPC-Web body. */
function unframe(body: Uint8Array): [compressed: boolean, payload: Uint8Array] {
  const frame = readWholeEnvelope(body);
  if (frame === undefined) {
    throw invalid("malformed gRPC body: a unary call takes exactly one whole frame");
  }
  if ((frame.flags & ~1) !== 0) {
    throw invalid("malformed gRPC frame: unknown flags");
  }
  return [(frame.flags & 1) === 1, frame.data];
}

const gunzip = promisify(zlib.gunzip);
const brotliDecompress = promisify(zlib.brotliDecompress);

/**
 * inflate decompresses at most bodyLimitBytes: zlib stops as soon as its
 * output passes maxOutputLength, so a bomb costs 1 MiB of output, not its
 * full size.
 */
async function inflate(codec: "gzip" | "br", bytes: Uint8Array): Promise<Uint8Array> {
  if (bytes.byteLength === 0) {
    return bytes;
  }
  try {
    const options = { maxOutputLength: bodyLimitBytes };
    return codec === "gzip" ? await gunzip(bytes, options) : await brotliDecompress(bytes, options);
  } catch (e) {
    if ((e as { code?: unknown }).code === "ERR_BUFFER_TOO_LARGE") {
      throw new ConnectError(
        `request message exceeds ${bodyLimitBytes} bytes after decompression`,
        Code.ResourceExhausted,
        { [errorCodeHeader]: "InvalidRequest" },
      );
    }
    throw invalid(`request body is not valid ${codec}`);
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * checkJson parses JSON as connect would (protobuf JSON, unknown fields ignored),
 * after refusing JSON nested too deeply to parse cheaply and what checkRequestJson
 * refuses. Its errors name the field but never echo the text or a value: the
 * parser's own messages quote the input, which may be a secret sent in the wrong
 * place, so they are the REST decoder's (describeJsonError).
 */
function checkJson(input: DescMessage, message: Uint8Array): Message {
  let text: string;
  try {
    text = utf8.decode(message);
  } catch {
    throw invalid("request body is not valid UTF-8");
  }
  if (exceedsJsonDepth(text)) {
    throw invalid(`JSON nests deeper than ${maxJsonDepth} levels`);
  }
  let parsed: JsonValue;
  try {
    parsed = JSON.parse(text) as JsonValue;
  } catch {
    throw invalid("request body is not valid JSON");
  }
  return messageFromJson(input, parsed, true, invalid);
}

/** checkBinary parses binary protobuf as connect will, then looks for what parsing drops. */
function checkBinary(input: DescMessage, message: Uint8Array): Message {
  let parsed: Message;
  try {
    parsed = fromBinary(input, message);
  } catch {
    throw invalid(`request is not a valid ${input.typeName} message`);
  }
  const path = findForbiddenMapKey(input, message, "");
  if (path !== undefined) {
    throw forbiddenMapKey(path);
  }
  return parsed;
}

/** MAX_DEPTH bounds how deep findForbiddenMapKey follows nested messages. */
const MAX_DEPTH = 64;

/**
 * findForbiddenMapKey walks binary protobuf by descriptor (already known to
 * parse) and returns the field path of the first map entry whose key is
 * `__proto__`, which `fromBinary` drops without a trace.
 */
function findForbiddenMapKey(
  desc: DescMessage,
  bytes: Uint8Array,
  prefix: string,
  depth = 0,
): string | undefined {
  if (desc.typeName.startsWith("google.protobuf.")) {
    return undefined;
  }
  if (depth > MAX_DEPTH) {
    // Unreachable with today's (non-recursive) request messages; a bound all the same.
    throw invalid("request message is nested too deeply");
  }
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [number, wireType] = reader.tag();
    const field = desc.fields.find((f) => f.number === number);
    if (field === undefined || wireType !== WireType.LengthDelimited) {
      reader.skip(wireType, number);
      continue;
    }
    const path = `${prefix}${field.name}`;
    if (field.fieldKind === "map") {
      const entry = new BinaryReader(reader.bytes());
      while (entry.pos < entry.len) {
        const [entryNumber, entryWireType] = entry.tag();
        if (entryNumber === 1 && entryWireType === WireType.LengthDelimited) {
          if (entry.string() === FORBIDDEN_MAP_KEY) {
            return path;
          }
        } else if (
          entryNumber === 2 &&
          entryWireType === WireType.LengthDelimited &&
          field.mapKind === "message"
        ) {
          const found = findForbiddenMapKey(field.message, entry.bytes(), `${path}.`, depth + 1);
          if (found !== undefined) {
            return found;
          }
        } else {
          entry.skip(entryWireType, entryNumber);
        }
      }
    } else if (field.message !== undefined) {
      const found = findForbiddenMapKey(field.message, reader.bytes(), `${path}.`, depth + 1);
      if (found !== undefined) {
        return found;
      }
    } else {
      reader.skip(wireType, number);
    }
  }
  return undefined;
}

function emptyMessage(json: boolean): Uint8Array {
  return json ? new TextEncoder().encode("{}") : new Uint8Array(0);
}

function invalid(message: string): ConnectError {
  return new ConnectError(message, Code.InvalidArgument, { [errorCodeHeader]: "InvalidRequest" });
}

async function* oneChunk(body: Uint8Array): AsyncIterable<Uint8Array> {
  yield body;
}
