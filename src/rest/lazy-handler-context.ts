import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError, type ContextValues, type HandlerContext } from "@connectrpc/connect";

/** LazyHandlerContextInit is what a handler context is made of. */
export interface LazyHandlerContextInit {
  method: DescMethod;
  /** `rest`, `connect`, `grpc` or `grpc_web`. */
  protocolName: string;
  requestMethod: string;
  /** Computes the request's absolute URL; called only if the handler reads `url`. */
  url: () => string;
  /** The request's headers; read (and copied) only if the handler reads `requestHeader`. */
  requestHeader: () => Headers;
  /**
   * Subscribes to the client going away before the call ends (the listener may be
   * given the reason), and returns how to unsubscribe; called only on the first
   * read of the context's `signal`.
   */
  onClientGone: (listener: (reason?: unknown) => void) => () => void;
  contextValues: ContextValues;
  /** The response headers every answer starts with (content type …). */
  responseHeader?: Record<string, string>;
  /** The response trailers every answer starts with (gRPC: `grpc-status: 0`). */
  responseTrailer?: Record<string, string>;
  /** A deadline for the call (grpc-timeout, connect-timeout-ms), counted from now. */
  timeoutMs?: number;
}

/** LazyHandlerContext is a handler context and what its caller needs back from it. */
export interface LazyHandlerContext {
  context: HandlerContext;
  /**
   * The response headers (the protocol's own and whatever the handler set), or
   * undefined when the handler never touched them: then they are just the init's.
   */
  touchedResponseHeader(): Headers | undefined;
  /** The response trailers likewise, or undefined when the handler never touched them. */
  touchedResponseTrailer(): Headers | undefined;
  /** end tells the handler's downstream calls that the call is over and stops its deadline. */
  end(): void;
}

/** callOver is the abort reason of a context whose call has ended (one object, no stack per call). */
const callOver = new ConnectError("the call is over", Code.Canceled);

/**
 * createLazyHandlerContext returns a handler context that behaves like connect's
 * createHandlerContext for a unary call (REST, or the lean Connect, gRPC and
 * gRPC-Web path) but builds each costly part only when the handler uses it: the
 * abort controller linked to the client and the deadline (on the first read of
 * `signal`), the request and response headers, and the URL. connect builds a
 * linked controller, a deadline controller and three Headers per call and aborts
 * them on completion, which creates an abort error with a stack every time; a
 * handler that reads none of them (every KMS method) costs none of that here.
 */
export function createLazyHandlerContext(init: LazyHandlerContextInit): LazyHandlerContext {
  const deadlineAt = init.timeoutMs === undefined ? undefined : Date.now() + init.timeoutMs;
  let controller: AbortController | undefined;
  let timer: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;
  let ended = false;
  let requestHeader: Headers | undefined;
  let responseHeader: Headers | undefined;
  let responseTrailer: Headers | undefined;
  let url: string | undefined;

  function signal(): AbortSignal {
    if (controller !== undefined) return controller.signal;
    const own = new AbortController();
    controller = own;
    if (ended) {
      own.abort(callOver);
      return own.signal;
    }
    unsubscribe = init.onClientGone((reason) =>
      own.abort(reason ?? new ConnectError("the client went away", Code.Canceled)),
    );
    if (deadlineAt !== undefined && !own.signal.aborted) {
      // The same reason connect's createDeadlineSignal gives.
      const onDeadline = () =>
        own.abort(new ConnectError("the operation timed out", Code.DeadlineExceeded));
      const left = deadlineAt - Date.now();
      if (left <= 0) onDeadline();
      else timer = setTimeout(onDeadline, left);
    }
    return own.signal;
  }

  const header = () => {
    responseHeader ??= new Headers(init.responseHeader);
    return responseHeader;
  };
  const trailer = () => {
    responseTrailer ??= new Headers(init.responseTrailer);
    return responseTrailer;
  };
  const context: HandlerContext = {
    method: init.method,
    service: init.method.parent,
    protocolName: init.protocolName,
    requestMethod: init.requestMethod,
    values: init.contextValues,
    timeoutMs: () => (deadlineAt === undefined ? undefined : deadlineAt - Date.now()),
    get signal() {
      return signal();
    },
    get requestHeader() {
      requestHeader ??= new Headers(init.requestHeader());
      return requestHeader;
    },
    get responseHeader() {
      return header();
    },
    get responseTrailer() {
      return trailer();
    },
    get url() {
      url ??= init.url();
      return url;
    },
  };

  return {
    context,
    touchedResponseHeader: () => responseHeader,
    touchedResponseTrailer: () => responseTrailer,
    end() {
      if (ended) return;
      ended = true;
      clearTimeout(timer);
      unsubscribe?.();
      controller?.abort(callOver);
    },
  };
}

/**
 * clientGoneFromSignal adapts a request's AbortSignal (read only when subscribed)
 * to LazyHandlerContextInit.onClientGone, passing on the signal's reason.
 */
export function clientGoneFromSignal(
  signal: () => AbortSignal,
): LazyHandlerContextInit["onClientGone"] {
  return (listener) => {
    const s = signal();
    const onAbort = () => listener(s.reason);
    if (s.aborted) {
      onAbort();
      return () => {};
    }
    s.addEventListener("abort", onAbort, { once: true });
    return () => s.removeEventListener("abort", onAbort);
  };
}
