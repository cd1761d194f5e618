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
 * The context is a class instance, its getters on the prototype: V8 builds an
 * object literal with getters through its slow path, several µs per call.
 */
export function createLazyHandlerContext(init: LazyHandlerContextInit): LazyHandlerContext {
  const context = new LazyContext(init);
  return {
    context,
    touchedResponseHeader: () => context.touchedHeader,
    touchedResponseTrailer: () => context.touchedTrailer,
    end: () => context.end(),
  };
}

/** LazyContext is createLazyHandlerContext's handler context. */
class LazyContext implements HandlerContext {
  readonly method: DescMethod;
  readonly service: DescMethod["parent"];
  readonly protocolName: string;
  readonly requestMethod: string;
  readonly values: ContextValues;
  /** An own function, not a method: connect's contexts survive `const { timeoutMs } = ctx`. */
  readonly timeoutMs: () => number | undefined;
  touchedHeader: Headers | undefined;
  touchedTrailer: Headers | undefined;
  readonly #init: LazyHandlerContextInit;
  readonly #deadlineAt: number | undefined;
  #controller: AbortController | undefined;
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  #ended = false;
  #requestHeader: Headers | undefined;
  #url: string | undefined;

  constructor(init: LazyHandlerContextInit) {
    this.#init = init;
    this.method = init.method;
    this.service = init.method.parent;
    this.protocolName = init.protocolName;
    this.requestMethod = init.requestMethod;
    this.values = init.contextValues;
    const deadlineAt = init.timeoutMs === undefined ? undefined : Date.now() + init.timeoutMs;
    this.#deadlineAt = deadlineAt;
    this.timeoutMs = () => (deadlineAt === undefined ? undefined : deadlineAt - Date.now());
  }

  get signal(): AbortSignal {
    if (this.#controller !== undefined) return this.#controller.signal;
    const own = new AbortController();
    this.#controller = own;
    if (this.#ended) {
      own.abort(callOver);
      return own.signal;
    }
    this.#unsubscribe = this.#init.onClientGone((reason) =>
      own.abort(reason ?? new ConnectError("the client went away", Code.Canceled)),
    );
    const deadlineAt = this.#deadlineAt;
    if (deadlineAt !== undefined && !own.signal.aborted) {
      // The same reason connect's createDeadlineSignal gives.
      const onDeadline = () =>
        own.abort(new ConnectError("the operation timed out", Code.DeadlineExceeded));
      const left = deadlineAt - Date.now();
      if (left <= 0) onDeadline();
      else this.#timer = setTimeout(onDeadline, left);
    }
    return own.signal;
  }

  get requestHeader(): Headers {
    this.#requestHeader ??= new Headers(this.#init.requestHeader());
    return this.#requestHeader;
  }

  get responseHeader(): Headers {
    this.touchedHeader ??= new Headers(this.#init.responseHeader);
    return this.touchedHeader;
  }

  get responseTrailer(): Headers {
    this.touchedTrailer ??= new Headers(this.#init.responseTrailer);
    return this.touchedTrailer;
  }

  get url(): string {
    this.#url ??= this.#init.url();
    return this.#url;
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    clearTimeout(this.#timer);
    this.#unsubscribe?.();
    this.#controller?.abort(callOver);
  }
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
