import type { DescMethod } from "@bufbuild/protobuf";
import type { ContextValues, HandlerContext } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";

/** RestHandlerContextInit is what a REST call's handler context is made of. */
export interface RestHandlerContextInit {
  method: DescMethod;
  requestMethod: string;
  /** Computes the request's absolute URL; called only if the handler reads `url`. */
  url: () => string;
  /** Aborts when the client goes away; read only on the first read of the context's `signal`. */
  requestSignal: () => AbortSignal;
  /** The request's headers; read (and copied) only if the handler reads `requestHeader`. */
  requestHeader: () => Headers;
  contextValues: ContextValues;
  /** A deadline for the call, counted from the context's creation. */
  timeoutMs?: number;
}

/** RestHandlerContext is a handler context and the end of its call. */
export interface RestHandlerContext {
  context: HandlerContext;
  /** The response headers the handler set, or undefined when it touched none. */
  responseHeader(): Headers | undefined;
  /** end tells the handler's downstream calls that the call is over and stops its deadline. */
  end(): void;
}

/** callOver is the abort reason of a handler context whose call has ended. */
const callOver = new ConnectError("the call is over", Code.Canceled);

/**
 * createRestHandlerContext returns a handler context that behaves like connect's
 * createHandlerContext for a REST call but builds each costly part only when the
 * handler uses it: the abort controller linked to the client's signal and the
 * deadline (on the first read of `signal`), the response headers and trailers, the
 * URL, and the request headers. A handler that reads none of them (every
 * KMS method) costs no controller, no Headers and no URL parsing; and ending a call
 * whose signal nobody read builds no abort error.
 */
export function createRestHandlerContext(init: RestHandlerContextInit): RestHandlerContext {
  const deadlineAt = init.timeoutMs === undefined ? undefined : Date.now() + init.timeoutMs;
  let controller: AbortController | undefined;
  let timer: NodeJS.Timeout | undefined;
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
    const requestSignal = init.requestSignal();
    const onRequestAbort = () => own.abort(requestSignal.reason);
    if (requestSignal.aborted) {
      onRequestAbort();
    } else {
      requestSignal.addEventListener("abort", onRequestAbort, { once: true });
      own.signal.addEventListener(
        "abort",
        () => requestSignal.removeEventListener("abort", onRequestAbort),
        { once: true },
      );
    }
    if (deadlineAt !== undefined && !own.signal.aborted) {
      const onDeadline = () =>
        own.abort(new ConnectError("the operation timed out", Code.DeadlineExceeded));
      const left = deadlineAt - Date.now();
      if (left <= 0) onDeadline();
      else timer = setTimeout(onDeadline, left);
    }
    return own.signal;
  }

  const context: HandlerContext = {
    method: init.method,
    service: init.method.parent,
    protocolName: "rest",
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
      responseHeader ??= new Headers();
      return responseHeader;
    },
    get responseTrailer() {
      responseTrailer ??= new Headers();
      return responseTrailer;
    },
    get url() {
      url ??= init.url();
      return url;
    },
  };

  return {
    context,
    responseHeader: () => responseHeader,
    end() {
      if (ended) return;
      ended = true;
      clearTimeout(timer);
      controller?.abort(callOver);
    },
  };
}
