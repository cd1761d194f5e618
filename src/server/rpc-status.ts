import { type Code, ConnectError } from "@connectrpc/connect";
import { encodeEnvelope, type UniversalServerResponse } from "@connectrpc/connect/protocol";
import {
  codeFromString,
  codeToHttpStatus,
  codeToString,
  createEndStreamSerialization,
  endStreamFlag,
  errorToJsonBytes,
} from "@connectrpc/connect/protocol-connect";
import { setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { trailerFlag, trailerParse, trailerSerialize } from "@connectrpc/connect/protocol-grpc-web";
import { readWholeEnvelope } from "./whole-envelope.js";

/** RpcProtocol is the wire protocol of an RPC request. */
export type RpcProtocol = "connect" | "grpc" | "grpc-web";

/** rpcProtocolOf tells the RPC protocol from the request's Content-Type (Connect by default). */
export function rpcProtocolOf(contentType: string | undefined): RpcProtocol {
  const type = (contentType ?? "").toLowerCase();
  if (type.startsWith("application/grpc-web")) return "grpc-web";
  if (type.startsWith("application/grpc")) return "grpc";
  return "connect";
}

/**
 * rpcErrorResponse answers an RPC with `err` in the caller's own protocol, without running
 * a handler or reading the request body: Connect unary as the JSON error with its HTTP
 * status, Connect streaming as an end-stream message, gRPC as trailers, gRPC-Web as a
 * trailer frame. The edge uses it to refuse before the body is read (bad signature, no
 * room in the pre-auth budget), so a client learns nothing about its body.
 */
export function rpcErrorResponse(
  contentType: string | undefined,
  err: ConnectError,
): UniversalServerResponse {
  const type = (contentType ?? "").toLowerCase();
  const protocol = rpcProtocolOf(type);
  const binary = type.includes("proto");
  if (protocol === "grpc") {
    return {
      status: 200,
      header: new Headers({ "content-type": binary ? type : "application/grpc+proto" }),
      body: chunks([]),
      trailer: setTrailerStatus(new Headers(), err),
    };
  }
  if (protocol === "grpc-web") {
    const trailer = trailerSerialize(setTrailerStatus(new Headers(), err));
    return {
      status: 200,
      header: new Headers({ "content-type": binary ? type : "application/grpc-web+proto" }),
      body: chunks([encodeEnvelope(trailerFlag, trailer)]),
    };
  }
  if (type.startsWith("application/connect+")) {
    const end = createEndStreamSerialization({}).serialize({ metadata: new Headers(), error: err });
    return {
      status: 200,
      header: new Headers({ "content-type": type }),
      body: chunks([encodeEnvelope(endStreamFlag, end)]),
    };
  }
  return {
    status: codeToHttpStatus(err.code),
    header: new Headers({ "content-type": "application/json" }),
    body: chunks([errorToJsonBytes(err, {})]),
  };
}

/**
 * observeRpcStatus returns `response` with a body that, once it has been written, calls
 * `done` with the RPC status code name (`ok`, `invalid_argument`, …) the response carried:
 * gRPC's `grpc-status` trailer, gRPC-Web's trailer frame, Connect's error JSON or
 * end-stream message. So the access log reports a failed gRPC call as failed although its
 * HTTP status is 200. The body passes through untouched; at most the last chunk is kept.
 */
export function observeRpcStatus(
  protocol: RpcProtocol,
  response: UniversalServerResponse,
  done: (code: string) => void,
): UniversalServerResponse {
  const body = response.body;
  if (body === undefined) {
    done(codeNameOfHttpStatus(response.status));
    return response;
  }
  async function* watched(source: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
    let last: Uint8Array | undefined;
    const unaryError: Uint8Array[] = [];
    let unaryBytes = 0;
    try {
      for await (const chunk of source) {
        last = chunk;
        if (protocol === "connect" && response.status !== 200 && unaryBytes < 65_536) {
          unaryError.push(chunk);
          unaryBytes += chunk.byteLength;
        }
        yield chunk;
      }
    } catch (err) {
      done(err instanceof ConnectError ? codeToString(err.code) : "unknown");
      throw err;
    }
    done(statusAfterBody(protocol, response, last, unaryError));
  }
  return { ...response, body: watched(body) };
}

function statusAfterBody(
  protocol: RpcProtocol,
  response: UniversalServerResponse,
  last: Uint8Array | undefined,
  unaryError: Uint8Array[],
): string {
  switch (protocol) {
    case "grpc": {
      const status = response.trailer?.get("grpc-status") ?? response.header?.get("grpc-status");
      return status === null || status === undefined ? "unknown" : grpcCodeName(status);
    }
    case "grpc-web": {
      const frame = readWholeEnvelope(last);
      if (frame === undefined || frame.flags !== trailerFlag) {
        return response.status === 200 ? "unknown" : codeNameOfHttpStatus(response.status);
      }
      return grpcCodeName(trailerParse(frame.data).get("grpc-status") ?? "");
    }
    case "connect": {
      if (response.status !== 200) {
        return errorCodeOfJson(Buffer.concat(unaryError)) ?? codeNameOfHttpStatus(response.status);
      }
      const frame = readWholeEnvelope(last);
      if (frame !== undefined && (frame.flags & endStreamFlag) === endStreamFlag) {
        try {
          const end = JSON.parse(Buffer.from(frame.data).toString("utf8")) as {
            error?: { code?: unknown };
          };
          return typeof end.error?.code === "string" ? end.error.code : "ok";
        } catch {
          return "unknown";
        }
      }
      return "ok";
    }
  }
}

function errorCodeOfJson(bytes: Uint8Array): string | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(bytes).toString("utf8")) as { code?: unknown };
    return typeof parsed.code === "string" && codeFromString(parsed.code) !== undefined
      ? parsed.code
      : undefined;
  } catch {
    return undefined;
  }
}

/** grpcCodeName turns a `grpc-status` value into the code's name. */
function grpcCodeName(status: string): string {
  const code = Number(status);
  if (status === "" || !Number.isInteger(code) || code < 0 || code > 16) return "unknown";
  return code === 0 ? "ok" : codeToString(code as Code);
}

/**
 * codeNameOfHttpStatus names the RPC code an HTTP status stands for, for answers that carry
 * no code of their own (REST, Connect's plain HTTP errors); it inverts http-status.ts.
 */
export function codeNameOfHttpStatus(status: number): string {
  if (status >= 200 && status < 300) return "ok";
  switch (status) {
    case 400:
      return "invalid_argument";
    case 401:
      return "unauthenticated";
    case 403:
      return "permission_denied";
    case 404:
      return "not_found";
    case 405:
    case 415:
      return "unimplemented";
    case 408:
      return "deadline_exceeded";
    case 409:
      return "failed_precondition";
    case 413:
    case 429:
      return "resource_exhausted";
    case 499:
      return "canceled";
    case 501:
      return "unimplemented";
    case 503:
      return "unavailable";
    case 504:
      return "deadline_exceeded";
    default:
      return status >= 500 ? "internal" : "unknown";
  }
}

async function* chunks(list: Uint8Array[]): AsyncIterable<Uint8Array> {
  yield* list;
}
