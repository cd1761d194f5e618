import type { IncomingMessage, ServerResponse } from "node:http";
import {
  type Http2ServerRequest,
  type Http2ServerResponse,
  constants as http2Constants,
} from "node:http2";
import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextValues } from "@connectrpc/connect";
import type { UniversalHandler, UniversalServerResponse } from "@connectrpc/connect/protocol";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import {
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from "@connectrpc/connect-node";
import type { CredentialStore } from "../auth/credential-store.js";
import type { Identity } from "../auth/identity.js";
import { permissionsOf } from "../auth/permissions.js";
import type { ReplayCache } from "../auth/replay-cache.js";
import { replayKeyOf } from "../auth/replay-key.js";
import type { VerifySigV4Options } from "../auth/verify-sigv4.js";
import { checkBodySha256, verifySigV4Headers } from "../auth/verify-sigv4.js";
import { type AwsJsonAdapter, awsJsonError, signingRegionOf } from "../awsjson/index.js";
import {
  type Cors,
  type RestResponse,
  type RestTranscoder,
  restErrorResponse,
} from "../rest/index.js";
import { awsRegionKey } from "../service/aws-identifiers.js";
import { type Caller, callerKey } from "../service/caller.js";
import type { AccessEntry, AccessLog, AccessProtocol } from "./access-log.js";
import { createLazyRestRequest } from "./lazy-rest-request.js";
import { lingerOnClose } from "./linger-close.js";
import type { Logger } from "./logger.js";
import type { PreauthBudget } from "./preauth-budget.js";
import { type BodyReadResult, discardBody, readBody, restOfBody } from "./read-body.js";
import type { Readiness } from "./readiness.js";
import { requestIdOf } from "./request-id.js";
import {
  codeNameOfHttpStatus,
  observeRpcStatus,
  type RpcProtocol,
  rpcErrorResponse,
  rpcProtocolOf,
} from "./rpc-status.js";
import { screenRpcRequest } from "./screen-rpc-request.js";
import { createStopSource, type StopSource } from "./stop-signal.js";
import type { UnaryRpcServer } from "./unary-rpc-server.js";

type NodeRequest = IncomingMessage | Http2ServerRequest;
type NodeResponse = ServerResponse | Http2ServerResponse;

/** defaultBodyTimeoutMs is how long a request's body may take to arrive (30 s). */
export const defaultBodyTimeoutMs = 30_000;

/** publicBodyLimitBytes caps the whole request body of an unauthenticated RPC (health, reflection). */
export const publicBodyLimitBytes = 64 * 1024;

/** EdgeOptions are the pieces the edge routes between. */
export interface EdgeOptions {
  /** RPC handlers (Connect, gRPC, gRPC-Web) by request path, from a Connect router. */
  rpcHandlers: UniversalHandler[];
  /** Services answered without authentication: health and server reflection. */
  publicServices: ReadonlySet<string>;
  rest: RestTranscoder;
  /** The AWS KMS API (AWS JSON 1.1): `POST /` with `X-Amz-Target` or its content type. */
  awsJson?: AwsJsonAdapter;
  credentials: CredentialStore;
  /** Where failures of the edge itself are logged. */
  log: Logger;
  /** Where the one access line per request goes. */
  accessLog: AccessLog;
  /** Answers `GET /ready`; without it /ready answers like /health. */
  readiness?: Readiness;
  /** Deadline for a request's whole body, from its headers to its end (30 s). */
  bodyTimeoutMs?: number;
  /** The bytes that requests not yet authenticated may hold at once, shared by all. */
  preauthBudget: PreauthBudget;
  /** Serves unary calls with a whole body on a lean path; what it declines goes to `rpcHandlers`. */
  unaryRpc?: UnaryRpcServer;
  /** The CORS policy of the REST admin paths (--cors-origin); none when absent. */
  cors?: Cors;
  /**
   * Refuses an authenticated RPC before its body is screened or parsed, when the
   * caller holds no permission for its method (CallAuthorizer.screen).
   */
  screen?: (caller: Caller, method: DescMethod) => Promise<void>;
  /** With `--reject-replays`: the signatures already used within their window. */
  replays?: ReplayCache;
  /** Operators' paths (`/metrics`, `/openapi.json`) by exact path; each checks its own access. */
  opsRoutes?: ReadonlyMap<string, (req: NodeRequest, res: NodeResponse) => void>;
}

/** REPLAY_MAX_PRESIGN_SECONDS is the longest presigned URL `--reject-replays` accepts: its window must fit the cache's. */
export const REPLAY_MAX_PRESIGN_SECONDS = 900;

/** Exchange is one request in flight, with what the access log will say about it. */
interface Exchange {
  req: NodeRequest;
  res: NodeResponse;
  reqId: string;
  /** The peer's address, taken at once: an HTTP/2 stream's socket is gone after it closes. */
  remote: string | null;
  started: number;
  rawPath: string;
  rawQuery: string;
  protocol: AccessProtocol;
  rpc: string | null;
  /** The verified access key. */
  accessKey?: string;
  authError?: string;
  /** The RPC status code, when the response carried one of its own. */
  code?: string;
  finished: boolean;
  timedOut: boolean;
  /** Fired at the body deadline; stops a body read in progress. */
  deadline: StopSource;
  /** Called when the exchange closes, before its access line: a REST call in flight hears of it. */
  onClose?: () => void;
}

/** Admission is the outcome of authentication: a verified caller and its body, or a refusal. */
type Admission =
  | { ok: true; caller: Caller; read: BodyReadResult & { complete: true } }
  | { ok: true; caller: Caller; read: { complete: false; head: Uint8Array[] } }
  | { ok: false; code: Code; message: string; retryAfter?: boolean };

/**
 * createEdge returns the one request handler in front of every protocol. It
 * answers `GET /health` and `GET /ready`, verifies SigV4 on the raw request, and
 * passes the verified Caller to the REST transcoder or the Connect handlers
 * through `callerKey`. SigV4 lives here and not in an interceptor because it
 * signs raw bytes, which interceptors never see.
 *
 * The body is read only once the signature over the headers holds, so an
 * unauthenticated client cannot make the gateway hold its body; only requests
 * that sign a hash of the body without declaring it (curl --aws-sigv4) are read
 * first, under the shared pre-auth budget (over it: 503 with Retry-After). Every
 * body has a deadline (408, or a reset once a response has started). Every request
 * gets an id (its valid `x-request-id`, or a fresh one) echoed in the response,
 * and one access-log line.
 */
export function createEdge(options: EdgeOptions): (req: NodeRequest, res: NodeResponse) => void {
  const rpcByPath = new Map(options.rpcHandlers.map((h) => [h.requestPath, h]));
  const bodyTimeoutMs = options.bodyTimeoutMs ?? defaultBodyTimeoutMs;

  return (req, res) => {
    const url = req.url ?? "/";
    const queryAt = url.indexOf("?");
    const ex: Exchange = {
      req,
      res,
      reqId: requestIdOf(req.headers["x-request-id"]),
      remote: req.socket?.remoteAddress ?? null,
      started: performance.now(),
      rawPath: queryAt < 0 ? url : url.slice(0, queryAt),
      rawQuery: queryAt < 0 ? "" : url.slice(queryAt + 1),
      protocol: "other",
      rpc: null,
      finished: false,
      timedOut: false,
      deadline: createStopSource(),
    };
    res.setHeader("x-request-id", ex.reqId);
    // Cleared when the exchange closes; firing after the body arrived does nothing.
    const timer = setTimeout(() => onBodyTimeout(ex), bodyTimeoutMs);
    // An HTTP/2 response emits 'finish' only when its stream closes, even after a reset,
    // so the stream's own 'finish' (all of the response written) is what counts there.
    const writer = req.httpVersionMajor === 1 ? res : (req as Http2ServerRequest).stream;
    writer.once("finish", () => {
      ex.finished = true;
    });
    res.once("close", () => {
      clearTimeout(timer);
      ex.onClose?.();
      writeAccessLine(ex);
    });
    route(ex).catch((err: unknown) => {
      // A deadline or a client that went away ends a read or a write early;
      // that is the client's doing and already in the access line.
      if (ex.timedOut || isGone(ex)) return;
      options.log("error", "request handling failed", {
        reqId: ex.reqId,
        path: ex.rawPath.slice(0, 256),
        cause: err,
      });
      if (!res.headersSent) {
        writeJson(res, 500, { code: "InternalError", message: "internal error" });
      } else {
        res.destroy();
      }
    });
  };

  async function route(ex: Exchange): Promise<void> {
    const { rawPath, req, res } = ex;
    if (rawPath === "/health") {
      ex.protocol = "health";
      answerProbe(req, res, { status: "ok" }, true);
      return;
    }
    if (rawPath === "/ready") {
      ex.protocol = "health";
      const view = (await options.readiness?.check()) ?? { status: "ok", ready: true };
      answerProbe(req, res, { status: view.status, ready: view.ready }, view.ready);
      return;
    }
    const opsRoute = options.opsRoutes?.get(rawPath);
    if (opsRoute !== undefined) {
      opsRoute(req, res);
      return;
    }

    const rpc = rpcByPath.get(rawPath);
    if (rpc !== undefined) {
      ex.rpc = `${rpc.service.typeName}/${rpc.method.name}`;
      const wire = rpcProtocolOf(headerOf(req, "content-type"));
      if (options.publicServices.has(rpc.service.typeName)) {
        ex.protocol = rpc.service.typeName.startsWith("grpc.health.") ? "health" : "reflection";
        // Anyone may call these, so their requests (all a few bytes) are capped far
        // below the 1 MiB of authenticated calls: a stalled one holds at most that.
        // A call with one request message (health) is read whole and screened, so a
        // malformed one is InvalidArgument, not Internal; streams (reflection) flow.
        const kind = rpc.method.methodKind;
        if (kind !== "unary" && kind !== "server_streaming") {
          await serveRpc(ex, rpc, wire, { body: cappedBody(req, publicBodyLimitBytes) });
          return;
        }
        // Unauthenticated bytes: held under the shared pre-auth budget, like unsigned bodies.
        const read = await readBody(req, {
          limit: publicBodyLimitBytes,
          signal: ex.deadline.signal,
          budget: options.preauthBudget,
        });
        if (!read.complete) {
          closeAfterUnreadBody(ex);
          const overBudget = "overBudget" in read;
          const refusal = rpcErrorResponse(
            headerOf(req, "content-type"),
            overBudget ? budgetFull() : bodyTooLarge(publicBodyLimitBytes),
          );
          if (overBudget) refusal.header?.set("retry-after", "1");
          await writeRpc(ex, wire, refusal);
          return;
        }
        try {
          await serveRpc(ex, rpc, wire, { body: read.body });
        } finally {
          options.preauthBudget.release(read.body.byteLength);
        }
        return;
      }
      ex.protocol = wire;
      const admission = await authenticate(ex);
      if (!admission.ok) {
        const refusal = rpcErrorResponse(
          headerOf(req, "content-type"),
          new ConnectError(admission.message, admission.code),
        );
        if (admission.retryAfter) refusal.header?.set("retry-after", "1");
        await settleUnreadBody(ex);
        await writeRpc(ex, wire, refusal);
        return;
      }
      const { caller, read } = admission;
      if (options.screen !== undefined) {
        try {
          await options.screen(caller, rpc.method);
        } catch (err) {
          if (!read.complete) closeAfterUnreadBody(ex);
          const refusal = rpcErrorResponse(headerOf(req, "content-type"), ConnectError.from(err));
          await writeRpc(ex, wire, refusal);
          return;
        }
      }
      await serveRpc(ex, rpc, wire, {
        caller,
        // Authenticated bodies up to 1 MiB are buffered whole (and screened); a larger
        // body is handed on as a stream so the handler refuses it by size (readMaxBytes).
        body: read.complete ? read.body : restOfBody(read.head, req),
      });
      return;
    }

    if (options.awsJson !== undefined && rawPath === "/" && isAwsJsonRequest(req)) {
      await serveAwsJson(ex, options.awsJson);
      return;
    }

    if (!options.rest.handles(rawPath)) {
      writeRestError(res, Code.NotFound, `no such path: ${rawPath.slice(0, 200)}`);
      return;
    }
    ex.protocol = "rest";
    // A browser's preflight is unsigned, so CORS answers it before authentication.
    if (options.cors?.apply(req.method ?? "GET", req.headers, res)) return;
    // Authentication comes first: an unauthenticated caller learns nothing
    // about its input or about which keys exist.
    const admission = await authenticate(ex);
    if (!admission.ok) {
      await settleUnreadBody(ex);
      if (admission.retryAfter) res.setHeader("Retry-After", "1");
      writeRestError(res, admission.code, admission.message);
      return;
    }
    if (!admission.read.complete) {
      // The rest of the body is never read: close an HTTP/1.1 connection after
      // the answer (HTTP/2 ends just the stream).
      closeAfterUnreadBody(ex);
      writeRestError(res, Code.ResourceExhausted, "request body exceeds 1 MiB");
      return;
    }
    // The call is aborted only when the client goes away before it is answered: once
    // the handler has returned nothing listens, so a normal close builds no abort error.
    // The controller itself is made only if the handler reads the signal (no KMS
    // method does), already aborted when the client has gone by then.
    const request = createLazyRestRequest({
      method: req.method ?? "GET",
      rawPath,
      rawQuery: ex.rawQuery,
      // Built only if the handler or the URL asks for them (no KMS method does).
      headers: () => headersOf(req),
      body: admission.read.body,
      contextValues: createContextValues().set(callerKey, admission.caller),
    });
    ex.onClose = () => request.clientGone();
    let answer: RestResponse;
    try {
      answer = await options.rest.handle(request);
    } finally {
      ex.onClose = undefined;
    }
    ex.rpc = answer.rpc ?? null;
    writeRest(res, answer);
  }

  /**
   * authenticate checks the signature over the headers before reading a byte of the
   * body; reads the body (bounded by 1 MiB and the deadline) only for a caller whose
   * signature holds, or, when the signature covers an undeclared body hash, under
   * the pre-auth budget.
   */
  async function authenticate(ex: Exchange, scope?: VerifySigV4Options): Promise<Admission> {
    const { req } = ex;
    const head = verifySigV4Headers(
      {
        method: req.method ?? "GET",
        rawPath: ex.rawPath,
        rawQuery: ex.rawQuery,
        headers: req.headers,
      },
      options.credentials,
      scope,
    );
    if (head.ok === false) return refuse(ex, head.reason);
    const signal = ex.deadline.signal;
    if (head.ok === true) {
      ex.accessKey = head.identity.accessKey;
      const caller = callerOf(ex, head.identity);
      const read = await readBody(req, { signal });
      if (!read.complete) {
        return {
          ok: true,
          caller,
          read: { complete: false, head: "head" in read ? read.head : [] },
        };
      }
      if (head.bodySha256 !== null) {
        const mismatch = checkBodySha256(head.bodySha256, read.body);
        if (mismatch !== undefined) {
          ex.accessKey = undefined;
          return refuse(ex, mismatch.reason);
        }
      }
      const replay = checkReplay(ex);
      if (replay !== undefined) return replay;
      return { ok: true, caller, read };
    }
    const read = await readBody(req, { signal, budget: options.preauthBudget });
    if (!read.complete) {
      if ("overBudget" in read) {
        const full = budgetFull();
        return { ok: false, code: full.code, message: full.rawMessage, retryAfter: true };
      }
      return { ok: false, code: Code.ResourceExhausted, message: "request body exceeds 1 MiB" };
    }
    try {
      const result = head.finish(read.body);
      if (!result.ok) return refuse(ex, result.reason);
      ex.accessKey = result.identity.accessKey;
      const replay = checkReplay(ex);
      if (replay !== undefined) return replay;
      return { ok: true, caller: callerOf(ex, result.identity), read };
    } finally {
      options.preauthBudget.release(read.body.byteLength);
    }
  }

  /**
   * serveAwsJson answers an AWS KMS API request: SigV4 with service `kms` in its scope
   * (the same identities as every protocol), the body bounded as for REST, then the
   * adapter, with the scope's region for the ARNs of the answer. Every refusal has
   * AWS's error shape, so AWS SDKs raise it as an exception they know.
   */
  async function serveAwsJson(ex: Exchange, adapter: AwsJsonAdapter): Promise<void> {
    const { req, res } = ex;
    ex.protocol = "aws-json";
    res.setHeader("x-amzn-requestid", ex.reqId);
    const admission = await authenticate(ex, AWS_KMS_SCOPE);
    if (!admission.ok) {
      await settleUnreadBody(ex);
      if (admission.retryAfter) res.setHeader("Retry-After", "1");
      ex.code = codeToString(admission.code);
      writeRest(res, awsJsonError(awsRefusalName(req, admission.code), admission.message));
      return;
    }
    if (!admission.read.complete) {
      closeAfterUnreadBody(ex);
      writeRest(res, awsJsonError("ValidationException", "request body exceeds 1 MiB"));
      return;
    }
    const request = createLazyRestRequest({
      method: "POST",
      rawPath: ex.rawPath,
      rawQuery: ex.rawQuery,
      headers: () => headersOf(req),
      body: admission.read.body,
      contextValues: createContextValues()
        .set(callerKey, admission.caller)
        .set(awsRegionKey, signingRegionOf(req.headers.authorization)),
    });
    ex.onClose = () => request.clientGone();
    let answer: RestResponse;
    try {
      answer = await adapter.handle({
        target: headerOf(req, "x-amz-target"),
        contentType: headerOf(req, "content-type"),
        request,
      });
    } finally {
      ex.onClose = undefined;
    }
    ex.rpc = answer.rpc ?? null;
    if (answer.errorCode !== undefined) ex.code = codeToString(answer.errorCode);
    writeRest(res, answer);
  }

  /** callerOf is the Caller handed to the service: who, from where, in which request, and what it may do. */
  function callerOf(ex: Exchange, identity: Identity): Caller {
    const permissions = permissionsOf(identity);
    return {
      authenticated: true,
      name: identity.name,
      accessKey: identity.accessKey,
      requestId: ex.reqId,
      source: ex.remote,
      allows: permissions.allows,
      mayEver: permissions.mayEver,
    };
  }

  /**
   * checkReplay refuses (401) a verified request whose signature was already used,
   * with `--reject-replays`; it runs only once the whole signature, body included,
   * has held, so no one can make the gateway remember a signature it did not check.
   * A presigned URL valid for longer than the window is refused in this mode, and a
   * full cache answers 503 rather than forget a signature that could still be replayed.
   */
  function checkReplay(ex: Exchange): Admission | undefined {
    if (options.replays === undefined) return undefined;
    const key = replayKeyOf(ex.req.headers, ex.rawQuery);
    if (key === undefined) return undefined;
    if ((key.expiresSeconds ?? 0) > REPLAY_MAX_PRESIGN_SECONDS) {
      ex.accessKey = undefined;
      return refuse(
        ex,
        `presigned URLs may be valid for at most ${REPLAY_MAX_PRESIGN_SECONDS} seconds when replays are rejected`,
      );
    }
    const verdict = options.replays.check(key.signature);
    if (verdict === "fresh") return undefined;
    ex.accessKey = undefined;
    if (verdict === "replayed") return refuse(ex, "request already used (replay)");
    return {
      ok: false,
      code: Code.Unavailable,
      message: "too many recent requests to check for replays; retry shortly",
      retryAfter: true,
    };
  }

  function refuse(ex: Exchange, reason: string): Admission {
    ex.authError = reason;
    return { ok: false, code: Code.Unauthenticated, message: reason };
  }

  async function serveRpc(
    ex: Exchange,
    rpc: UniversalHandler,
    wire: RpcProtocol,
    call: { caller?: Caller; body: Uint8Array | AsyncIterable<Uint8Array> },
  ): Promise<void> {
    const contextValues = createContextValues();
    if (call.caller !== undefined) {
      contextValues.set(callerKey, call.caller);
    }
    if (call.body instanceof Uint8Array && options.unaryRpc !== undefined) {
      const served = options.unaryRpc({
        req: ex.req,
        res: ex.res,
        path: rpc.requestPath,
        body: call.body,
        contextValues,
        onCode: (code) => {
          ex.code = code;
        },
      });
      if (served !== false) {
        await served;
        return;
      }
    }
    const universal = universalRequestFromNodeRequest(ex.req, ex.res, undefined, contextValues);
    // A whole buffered body is screened before connect parses it (issue 5 items 1
    // and 5: encodings, malformed binary, map keys protobuf-es would drop).
    const request =
      call.body instanceof Uint8Array
        ? await screenRpcRequest(rpc.method, universal, call.body)
        : { ...universal, body: call.body };
    const response = await rpc(request);
    await writeRpc(ex, wire, response);
  }

  function writeRpc(ex: Exchange, wire: RpcProtocol, response: UniversalServerResponse) {
    const observed = observeRpcStatus(wire, response, (code) => {
      ex.code = code;
    });
    return universalResponseToNodeResponse(observed, ex.res);
  }

  /**
   * onBodyTimeout ends a request whose body has not arrived in time: 408 while no
   * response has started (then the HTTP/1.1 connection closes, or the HTTP/2 stream
   * is reset), else the stream or connection is cut. Nothing is held past the deadline.
   */
  function onBodyTimeout(ex: Exchange): void {
    const { req, res } = ex;
    if (bodyArrived(req) || res.writableEnded) return;
    ex.timedOut = true;
    ex.deadline.stop(new Error("request body deadline exceeded"));
    if (res.headersSent) {
      cut(req);
      return;
    }
    closeAfterUnreadBody(ex);
    writeJson(res, 408, {
      code: "RequestTimeout",
      message: `request body not received within ${bodyTimeoutMs} ms`,
    });
  }

  function writeAccessLine(ex: Exchange): void {
    const { req, res } = ex;
    const aborted = !ex.finished && !ex.timedOut;
    // 499 (as nginx logs it): the client went away before any status was sent.
    const status = res.headersSent ? res.statusCode : 499;
    const entry: AccessEntry = {
      reqId: ex.reqId,
      remote: ex.remote,
      protocol: ex.protocol,
      rpc: ex.rpc,
      method: req.method ?? "",
      path: ex.rawPath.length > 256 ? ex.rawPath.slice(0, 256) : ex.rawPath,
      status,
      code: ex.code ?? (aborted ? "canceled" : codeNameOfHttpStatus(status)),
      ms: Math.round((performance.now() - ex.started) * 10) / 10,
      caller: ex.accessKey ?? null,
    };
    if (ex.authError !== undefined) entry.authError = ex.authError;
    if (aborted) entry.aborted = true;
    if (ex.timedOut) entry.timedOut = true;
    options.accessLog.write(entry);
  }
}

/** AWS_KMS_SCOPE is what an AWS KMS API request's credential scope must name: the service `kms`. */
const AWS_KMS_SCOPE: VerifySigV4Options = { service: "kms" };

/**
 * isAwsJsonRequest tells an AWS KMS API request (`POST /` with `X-Amz-Target` or the AWS
 * JSON content type) from the other requests for `/`, which stay REST's (404).
 */
function isAwsJsonRequest(req: NodeRequest): boolean {
  if (req.method !== "POST") return false;
  return (
    req.headers["x-amz-target"] !== undefined ||
    (headerOf(req, "content-type") ?? "").startsWith("application/x-amz-json")
  );
}

/** awsRefusalName is the AWS exception of a refused admission, as AWS names each case. */
function awsRefusalName(req: NodeRequest, code: Code): string {
  if (code === Code.Unavailable) return "ThrottlingException";
  if (code === Code.ResourceExhausted) return "ValidationException";
  const signed =
    req.headers.authorization !== undefined || (req.url ?? "").includes("X-Amz-Credential=");
  return signed ? "InvalidSignatureException" : "MissingAuthenticationTokenException";
}

/** smallBodyBytes is how much of a refused HTTP/1.1 body is read and thrown away (64 KiB). */
const smallBodyBytes = 64 * 1024;

/**
 * settleUnreadBody prepares to refuse a request whose body has not been read. Over
 * HTTP/1.1 a small body (64 KiB at most) is read to its end and thrown away, so that a
 * client still sending it reads the refusal instead of a reset, on a connection kept
 * alive; a larger body is never read, and the connection is closed after the refusal
 * (closeAfterUnreadBody). Over HTTP/2 the stream is reset after the refusal. Nothing
 * of the body is kept either way, and the body deadline still bounds the wait.
 */
async function settleUnreadBody(ex: Exchange): Promise<void> {
  const { req } = ex;
  if (
    bodyArrived(req) ||
    (req.httpVersionMajor === 1 && (await discardBody(req, smallBodyBytes, ex.deadline.signal)))
  ) {
    return;
  }
  closeAfterUnreadBody(ex);
}

/**
 * closeAfterUnreadBody makes sure a body the gateway will not read does not keep its
 * connection or stream: HTTP/1.1 answers with `Connection: close` and the socket is
 * closed after the answer and a bounded lingering read (lingerOnClose); HTTP/2 resets
 * the stream with NO_ERROR once the answer is sent (RFC 9113 §8.1).
 */
function closeAfterUnreadBody(ex: Exchange): void {
  const { req, res } = ex;
  if (bodyArrived(req)) return;
  if (req.httpVersionMajor === 1) {
    if (!res.headersSent) res.setHeader("Connection", "close");
    // Closed after the answer, but read (and thrown away) for a bounded while first, so
    // a client still sending its body reads the answer instead of a reset.
    lingerOnClose(req.socket);
    return;
  }
  // Node's compatibility layer ends every response with trailers (empty, or gRPC's
  // status): they are sent on 'wantTrailers', and reach the wire on the next turn, so the
  // reset waits for that. A response that never asks for trailers is reset a second after
  // its body is written (the response's own 'finish' waits for the stream to close).
  const stream = (req as Http2ServerRequest).stream;
  const reset = () => {
    if (!stream.closed && !stream.destroyed) stream.close(http2Constants.NGHTTP2_NO_ERROR);
  };
  stream.once("wantTrailers", () => setImmediate(reset));
  stream.once("finish", () => setTimeout(reset, 1_000).unref());
}

/** cut ends a request whose response has started: the HTTP/2 stream is reset, an HTTP/1.1 socket destroyed. */
function cut(req: NodeRequest): void {
  if (req.httpVersionMajor === 1) {
    req.socket.destroy();
    return;
  }
  const stream = (req as Http2ServerRequest).stream;
  if (!stream.closed && !stream.destroyed) stream.close(http2Constants.NGHTTP2_CANCEL);
}

/** bodyArrived is true once the whole request body has been received (read or not). */
function bodyArrived(req: NodeRequest): boolean {
  if (req.readableEnded) return true;
  if (req.httpVersionMajor === 1) return (req as IncomingMessage).complete;
  const stream = (req as Http2ServerRequest).stream;
  return stream.endAfterHeaders || stream.readableEnded;
}

/** isGone is true when the client closed the connection or reset the stream. */
function isGone(ex: Exchange): boolean {
  return ex.res.destroyed || ex.req.destroyed || (ex.req.socket?.destroyed ?? true);
}

/** answerProbe answers the unauthenticated probes: /health (liveness) and /ready (readiness). */
function answerProbe(req: NodeRequest, res: NodeResponse, body: object, ok: boolean): void {
  const headers = { "Content-Type": "application/json", "Cache-Control": "no-store" };
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { ...headers, Allow: "GET, HEAD" });
    res.end('{"code":"MethodNotAllowed","message":"this path answers GET and HEAD"}');
    return;
  }
  res.writeHead(ok ? 200 : 503, headers);
  if (req.method === "HEAD") {
    res.end();
  } else {
    res.end(JSON.stringify(body));
  }
}

function headerOf(req: NodeRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** writeJson answers with a JSON error body the transcoder has no Connect code for. */
function writeJson(res: NodeResponse, status: number, body: { code: string; message: string }) {
  res.writeHead(status, { "Content-Type": "application/json", "Cache-Control": "no-store" });
  res.end(JSON.stringify(body));
}

/** writeRestError answers with the REST error shape, the same as the transcoder's. */
function writeRestError(res: NodeResponse, code: Code, message: string): void {
  writeRest(res, restErrorResponse(new ConnectError(message, code)));
}

/**
 * writeRest writes a transcoder response to a Node response in one write: the
 * headers go out with a Content-Length (writeHead alone would choose chunked
 * encoding), and the body as a string, which node:http joins to the headers.
 */
function writeRest(res: NodeResponse, answer: RestResponse): void {
  const { body, headers, status } = answer;
  if (status !== 204 && status !== 304) headers["content-length"] = `${Buffer.byteLength(body)}`;
  res.writeHead(status, headers);
  res.end(body);
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

/**
 * cappedBody yields a request's body as it arrives, and fails with ResourceExhausted once
 * it exceeds `limit` bytes in total (streams included), before the chunk over it is held.
 */
async function* cappedBody(req: NodeRequest, limit: number): AsyncIterable<Uint8Array> {
  let total = 0;
  for await (const chunk of req as AsyncIterable<Uint8Array>) {
    total += chunk.byteLength;
    if (total > limit) {
      throw bodyTooLarge(limit);
    }
    yield chunk;
  }
}

/** bodyTooLarge is the error for an RPC whose body is over `limit` bytes, read whole or streamed. */
function bodyTooLarge(limit: number): ConnectError {
  return new ConnectError(`request body exceeds ${limit} bytes`, Code.ResourceExhausted);
}

/** budgetFull is the refusal when the pre-auth budget has no room: 503 with Retry-After. */
function budgetFull(): ConnectError {
  return new ConnectError(
    "too many unauthenticated request bodies in flight; retry shortly",
    Code.Unavailable,
  );
}
