import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { Code, ConnectError, createContextValues } from "@connectrpc/connect";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import {
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from "@connectrpc/connect-node";
import type { CredentialStore } from "../auth/credential-store.js";
import { verifySigV4 } from "../auth/verify-sigv4.js";
import { type RestResponse, type RestTranscoder, restErrorResponse } from "../rest/index.js";
import { type Caller, callerKey } from "../service/caller.js";
import type { Logger } from "./logger.js";
import { type BodyReadResult, readBody, restOfBody } from "./read-body.js";
import { screenRpcRequest } from "./screen-rpc-request.js";

type NodeRequest = IncomingMessage | Http2ServerRequest;
type NodeResponse = ServerResponse | Http2ServerResponse;

/** Target is one request's path and query as sent, and the caller once verified (for the log). */
interface Target {
  rawPath: string;
  rawQuery: string;
  caller?: Caller;
}

/** EdgeOptions are the pieces the edge routes between. */
export interface EdgeOptions {
  /** RPC handlers (Connect, gRPC, gRPC-Web) by request path, from a Connect router. */
  rpcHandlers: UniversalHandler[];
  /** Services answered without authentication: health and server reflection. */
  publicServices: ReadonlySet<string>;
  rest: RestTranscoder;
  credentials: CredentialStore;
  log: Logger;
}

/**
 * createEdge returns the one request handler in front of every protocol. It
 * answers `GET /health`, verifies SigV4 on the raw request (headers, and the
 * body hash when one is signed), and passes the verified Caller to the REST
 * transcoder or the Connect handlers through `callerKey`. SigV4 lives here and
 * not in an interceptor because it signs raw bytes, which interceptors never see.
 */
export function createEdge(options: EdgeOptions): (req: NodeRequest, res: NodeResponse) => void {
  const rpcByPath = new Map(options.rpcHandlers.map((h) => [h.requestPath, h]));
  return (req, res) => {
    const started = performance.now();
    const url = req.url ?? "/";
    const queryAt = url.indexOf("?");
    const target: Target = {
      rawPath: queryAt < 0 ? url : url.slice(0, queryAt),
      rawQuery: queryAt < 0 ? "" : url.slice(queryAt + 1),
    };
    res.once("finish", () => {
      options.log("info", "request", {
        method: req.method,
        path: target.rawPath,
        status: res.statusCode,
        ms: Math.round((performance.now() - started) * 10) / 10,
        caller: target.caller?.authenticated ? target.caller.name : null,
      });
    });
    route(req, res, target).catch((err: unknown) => {
      options.log("error", "request handling failed", { path: target.rawPath, cause: err });
      if (!res.headersSent) {
        writeRestError(res, Code.Internal, "internal error");
      } else {
        res.destroy();
      }
    });
  };

  async function route(req: NodeRequest, res: NodeResponse, target: Target): Promise<void> {
    const { rawPath, rawQuery } = target;
    if (rawPath === "/health") {
      answerHealth(req, res);
      return;
    }

    const rpc = rpcByPath.get(rawPath);
    if (rpc !== undefined) {
      if (options.publicServices.has(rpc.service.typeName)) {
        // A public call with one request message (health) is read and
        // screened too, so a malformed one is InvalidArgument, not Internal.
        const kind = rpc.method.methodKind;
        const single = kind === "unary" || kind === "server_streaming";
        await serveRpc(rpc, req, res, undefined, single ? await readBody(req) : undefined);
        return;
      }
      const read = await readBody(req);
      // An over-limit body cannot be hashed; the RPC handler refuses it by
      // size (readMaxBytes) before any handler runs.
      const caller: Caller = read.complete
        ? authenticate(req, rawPath, rawQuery, read.body)
        : { authenticated: false, reason: "request body exceeds 1 MiB" };
      target.caller = caller;
      await serveRpc(rpc, req, res, caller, read);
      return;
    }

    if (!options.rest.handles(rawPath)) {
      writeRestError(res, Code.NotFound, `no such path: ${rawPath.slice(0, 200)}`);
      return;
    }
    const read = await readBody(req);
    if (!read.complete) {
      // The rest of the body is never read: close an HTTP/1.1 connection after
      // the answer (HTTP/2 ends just the stream, and refuses the header).
      if (req.httpVersionMajor === 1) res.setHeader("Connection", "close");
      writeRestError(res, Code.ResourceExhausted, "request body exceeds 1 MiB");
      return;
    }
    // Authentication comes first: an unauthenticated caller learns nothing
    // about its input or about which keys exist.
    const caller = authenticate(req, rawPath, rawQuery, read.body);
    target.caller = caller;
    if (!caller.authenticated) {
      writeRestError(res, Code.Unauthenticated, caller.reason);
      return;
    }
    const abort = new AbortController();
    res.once("close", () => abort.abort());
    const answer = await options.rest.handle({
      method: req.method ?? "GET",
      rawPath,
      rawQuery,
      headers: headersOf(req),
      body: read.body,
      contextValues: createContextValues().set(callerKey, caller),
      signal: abort.signal,
    });
    writeRest(res, answer);
  }

  function authenticate(
    req: NodeRequest,
    rawPath: string,
    rawQuery: string,
    body: Uint8Array,
  ): Caller {
    const result = verifySigV4(
      { method: req.method ?? "GET", rawPath, rawQuery, headers: req.headers, body },
      options.credentials,
    );
    if (!result.ok) {
      return { authenticated: false, reason: result.reason };
    }
    return { authenticated: true, name: result.identity.name };
  }

  async function serveRpc(
    rpc: UniversalHandler,
    req: NodeRequest,
    res: NodeResponse,
    caller: Caller | undefined,
    read: BodyReadResult | undefined,
  ): Promise<void> {
    const contextValues = createContextValues();
    if (caller !== undefined) {
      contextValues.set(callerKey, caller);
    }
    const universal = universalRequestFromNodeRequest(req, res, undefined, contextValues);
    let request = universal;
    if (read?.complete === true) {
      // Input screening (issue 5 items 1, 5): the whole buffered body is
      // checked before connect parses it; see screenRpcRequest.
      const readable = caller?.authenticated !== false;
      request = await screenRpcRequest(rpc.method, universal, read.body, readable);
    } else if (read !== undefined) {
      request = { ...universal, body: restOfBody(read.head, req) };
    }
    const response = await rpc(request);
    await universalResponseToNodeResponse(response, res);
  }
}

/** answerHealth is the unauthenticated liveness probe for load balancers. */
function answerHealth(req: NodeRequest, res: NodeResponse): void {
  const headers = { "Content-Type": "application/json", "Cache-Control": "no-store" };
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { ...headers, Allow: "GET, HEAD" });
    res.end('{"code":"MethodNotAllowed","message":"/health answers GET and HEAD"}');
    return;
  }
  res.writeHead(200, headers);
  if (req.method === "HEAD") {
    res.end();
  } else {
    res.end('{"status":"ok"}');
  }
}

/** writeRestError answers with the REST error shape, the same as the transcoder's. */
function writeRestError(res: NodeResponse, code: Code, message: string): void {
  writeRest(res, restErrorResponse(new ConnectError(message, code)));
}

/** writeRest writes a transcoder response to a Node response. */
function writeRest(res: NodeResponse, answer: RestResponse): void {
  const headers: Record<string, string> = {};
  answer.headers.forEach((value, name) => {
    headers[name] = value;
  });
  res.writeHead(answer.status, headers);
  res.end(answer.body);
}

/** headersOf converts Node's request headers (minus HTTP/2 pseudo-headers) to WHATWG Headers. */
function headersOf(req: NodeRequest): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.startsWith(":") || value === undefined) {
      continue;
    }
    for (const one of Array.isArray(value) ? value : [value]) {
      headers.append(name, one);
    }
  }
  return headers;
}
