import type { DescMethod, DescService, Message } from "@bufbuild/protobuf";
import { create, isMessage } from "@bufbuild/protobuf";
import type { ContextValues, HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import { compileRoutes } from "./compile-routes.js";
import { errorBody, type RestErrorBody } from "./error-body.js";
import { httpStatusFromCode } from "./http-status.js";
import { compileRestJsonWriter, type RestJsonWriter } from "./json-writer.js";
import { clientGoneFromSignal, createLazyHandlerContext } from "./lazy-handler-context.js";
import { decodeRequest } from "./request-decoder.js";
import { createRouteMatcher } from "./route-matcher.js";

/**
 * RestRequest is one HTTP request as the transcoder needs it, independent of
 * the HTTP library: the body already read (and bounded) by the server.
 */
export interface RestRequest {
  /** Upper-case HTTP method. */
  method: string;
  /** The path, percent-encoded as received, without the query. */
  rawPath: string;
  /** The query string without `?`, percent-encoded as received. */
  rawQuery: string;
  /** Read only when a handler or its URL needs them, so a server may build them in a getter. */
  headers: Headers;
  body: Uint8Array;
  /** Per-request values for handlers, e.g. the verified identity. */
  contextValues: ContextValues;
  /**
   * Aborts when the client goes away or the server shuts down. Read only when a
   * handler reads its context's signal, so a server may create it in a getter.
   */
  signal: AbortSignal;
}

/**
 * RestResponse is the transcoder's answer; `body` is JSON text, empty for 204. Headers
 * are a plain object with lowercase names (one value each), which a Node response
 * takes as is: WHATWG Headers cost more to build than the rest of the answer. Both
 * stay strings because node:http sends a string body in the same write as the headers.
 */
export interface RestResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The RPC the route reached (`package.Service/Method`) when one matched, for the access log. */
  rpc?: string;
  /**
   * The Connect code of an error answer whose status does not tell it (the AWS KMS
   * API answers 400 for most errors), for the access log and the metrics.
   */
  errorCode?: Code;
}

/**
 * RestTranscoderOptions configure createRestTranscoder.
 */
export interface RestTranscoderOptions<S extends DescService> {
  /** The service whose `google.api.http` rules define the routes. */
  service: S;
  /** The implementation to call; a missing method answers 501. */
  implementation: Partial<ServiceImpl<S>>;
  /**
   * Raw path prefixes rewritten before matching, e.g.
   * `{"/minio/admin/v3/": "/rustfs/admin/v3/"}`. Keys and values start and
   * end with `/`.
   */
  pathAliases?: Record<string, string>;
  /** A deadline for each call, passed to the handler context. */
  timeoutMs?: number;
  /**
   * Called with every error a handler throws (or that writing its response
   * raises), with the method, so the server can log the real cause; the
   * client only ever sees the error body. Not called for malformed requests.
   */
  onError?: (error: unknown, method: DescMethod) => void;
  /**
   * Called once a route matched, before the request is decoded; a ConnectError it
   * throws is the answer. The gateway refuses here a caller without permission for
   * the method, so it gets the same 403 whatever its request holds.
   */
  beforeDecode?: (method: DescMethod, contextValues: ContextValues) => Promise<void> | void;
}

/**
 * RestTranscoder serves the REST bindings of one service.
 */
export interface RestTranscoder {
  /**
   * handles is true when a raw path lies under a REST prefix of the service
   * (the literal part of some route before its last segment, after alias
   * rewriting), so the server knows to send the request here — even when
   * it turns out to be a 404 or 405.
   */
  handles(rawPath: string): boolean;
  /** handle answers one request; it never throws. */
  handle(req: RestRequest): Promise<RestResponse>;
}

/**
 * createRestTranscoder compiles the service's `google.api.http` rules (it
 * throws on a bad rule) and returns a transport-agnostic REST handler that
 * calls the implementation directly.
 *
 * Responses: 200 with the JSON of the output message (see writeRestJson); 204
 * with an empty body when the output message type has no fields at all
 * (ClearCache), as the documented API answers clear-cache; errors as
 * `{"code", "message"}` with the status of httpStatusFromCode (404 for an
 * unknown path, 405 with `Allow` for a known path with another method). Every
 * response carries `Cache-Control: no-store`: admin responses can carry
 * plaintext key material and none is worth caching.
 *
 * Requests: see decodeRequest. The body is parsed as JSON whatever its
 * Content-Type says — `curl -d` labels JSON `application/x-www-form-urlencoded`
 * — so no request is refused for its Content-Type.
 */
export function createRestTranscoder<S extends DescService>(
  options: RestTranscoderOptions<S>,
): RestTranscoder {
  const routes = compileRoutes(options.service);
  const matcher = createRouteMatcher(routes);
  const aliases = Object.entries(options.pathAliases ?? {})
    .map(([from, to]) => {
      if (!/^\/(.*\/)?$/.test(from) || !/^\/(.*\/)?$/.test(to)) {
        throw new Error(`path alias ${from} -> ${to}: both must start and end with "/"`);
      }
      return { from, to };
    })
    .sort((a, b) => b.from.length - a.from.length);
  const prefixes = [
    ...new Set(
      routes.map((route) => {
        const literals: string[] = [];
        for (const segment of route.template.segments.slice(0, -1)) {
          if (segment.kind !== "literal") {
            break;
          }
          literals.push(segment.value);
        }
        return `/${literals.map((l) => `${l}/`).join("")}`;
      }),
    ),
  ].filter((prefix) => prefix !== "/");
  const implementation = options.implementation as Record<string, unknown>;
  // Built once: the access log names the RPC of every request.
  const rpcNames = new Map(
    routes.map((route) => [route.method, `${route.method.parent.typeName}/${route.method.name}`]),
  );
  // Each response type's JSON writer, compiled from its descriptor at start-up.
  const writers = new Map<DescMethod, RestJsonWriter>(
    routes.map((route) => [route.method, compileRestJsonWriter(route.method.output)]),
  );

  function rewrite(rawPath: string): string {
    const alias = aliases.find((a) => rawPath.startsWith(a.from));
    return alias === undefined ? rawPath : alias.to + rawPath.slice(alias.from.length);
  }

  async function call(req: RestRequest, method: DescMethod, input: Message): Promise<RestResponse> {
    const impl = implementation[method.localName];
    if (typeof impl !== "function") {
      return restErrorResponse(
        new ConnectError(
          `${method.parent.typeName}.${method.name} is not implemented`,
          Code.Unimplemented,
        ),
      );
    }
    const { context, touchedResponseHeader, end } = createLazyHandlerContext({
      method,
      protocolName: "rest",
      requestMethod: req.method,
      url: () => requestUrl(req),
      onClientGone: clientGoneFromSignal(() => req.signal),
      requestHeader: () => req.headers,
      contextValues: req.contextValues,
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    });
    try {
      const handler = impl as (request: Message, context: HandlerContext) => unknown;
      const result: unknown = await handler.call(options.implementation, input, context);
      const output = isMessage(result, method.output)
        ? result
        : create(method.output, result as Parameters<typeof create>[1]);
      const headers = responseHeaders(touchedResponseHeader());
      if (method.output.fields.length === 0) {
        return { status: 204, headers, body: "" };
      }
      headers["content-type"] = "application/json";
      const write = writers.get(method) ?? compileRestJsonWriter(method.output);
      return { status: 200, headers, body: write(output) };
    } catch (e) {
      try {
        options.onError?.(e, method);
      } catch {
        // A failing logger must not turn a clean error answer into a crash.
      }
      return restErrorResponse(toConnectError(e));
    } finally {
      // Stops the deadline and tells the handler's downstream calls that the RPC
      // is over, as connect-es does (without building an error when none listens).
      end();
    }
  }

  return {
    handles(rawPath) {
      const path = rewrite(rawPath);
      return prefixes.some((prefix) => path.startsWith(prefix));
    },
    async handle(req) {
      const match = matcher.match(req.method, rewrite(req.rawPath));
      if (match.kind === "not-found") {
        return jsonError(404, {
          code: "NotFound",
          message: `no such API: ${truncate(req.method)} ${truncate(req.rawPath)}`,
        });
      }
      if (match.kind === "method-not-allowed") {
        const response = jsonError(405, {
          code: "MethodNotAllowed",
          message: `method ${truncate(req.method)} is not allowed here; allowed: ${match.allow.join(", ")}`,
        });
        response.headers.allow = match.allow.join(", ");
        return response;
      }
      const method = match.route.method;
      let answer: RestResponse;
      try {
        await options.beforeDecode?.(method, req.contextValues);
        const input = decodeRequest(match.route, match.captures, req.rawQuery, req.body);
        answer = await call(req, method, input);
      } catch (e) {
        // Only beforeDecode and decodeRequest throw here: call() answers every error itself.
        answer = restErrorResponse(toConnectError(e));
      }
      answer.rpc = rpcNames.get(method);
      return answer;
    },
  };
}

/**
 * toConnectError keeps a ConnectError (its message was written for callers)
 * and an abort; anything else is a bug or a raw library error whose message
 * might say too much, so the caller only learns "internal error".
 */
function toConnectError(e: unknown): ConnectError {
  if (e instanceof ConnectError) {
    return e;
  }
  if (e instanceof Error && (e.name === "AbortError" || e.name === "TimeoutError")) {
    return new ConnectError("request canceled", Code.Canceled);
  }
  return new ConnectError("internal error", Code.Internal);
}

/**
 * restErrorResponse is the REST answer for a ConnectError: the status of
 * http-status.ts and the `{code, message}` body of error-body.ts. The server's
 * edge uses it too (401, 413, unknown paths), so every REST error has one shape.
 */
export function restErrorResponse(err: ConnectError): RestResponse {
  return jsonError(httpStatusFromCode(err.code), errorBody(err));
}

function jsonError(status: number, body: RestErrorBody): RestResponse {
  const headers = responseHeaders(undefined);
  headers["content-type"] = "application/json";
  return { status, headers, body: JSON.stringify(body) };
}

/** Headers a handler may not set: the transcoder owns the representation. */
const reservedHeaders = new Set(["content-type", "content-length", "cache-control"]);

/**
 * responseHeaders starts a response's headers: the handler's own (WHATWG Headers
 * already join repeated values with ", "), minus the representation headers the
 * transcoder owns, plus `cache-control: no-store`.
 */
function responseHeaders(fromHandler: Headers | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  fromHandler?.forEach((value, name) => {
    if (!reservedHeaders.has(name)) {
      headers[name] = value;
    }
  });
  headers["cache-control"] = "no-store";
  return headers;
}

function requestUrl(req: RestRequest): string {
  const target = req.rawQuery === "" ? req.rawPath : `${req.rawPath}?${req.rawQuery}`;
  try {
    return new URL(target, `http://${req.headers.get("host") ?? "localhost"}`).href;
  } catch {
    return `http://localhost${target.startsWith("/") ? "" : "/"}${target}`;
  }
}

function truncate(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
