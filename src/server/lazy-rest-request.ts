import type { ContextValues } from "@connectrpc/connect";
import type { RestRequest } from "../rest/index.js";

/** LazyRestRequestInit is what the edge knows of a REST request when it hands it on. */
export interface LazyRestRequestInit {
  method: string;
  rawPath: string;
  rawQuery: string;
  /** Builds the WHATWG headers; called only if the handler or its URL reads them. */
  headers: () => Headers;
  body: Uint8Array;
  contextValues: ContextValues;
}

/** LazyRestRequest is a RestRequest the edge can tell that its client went away. */
export interface LazyRestRequest extends RestRequest {
  /**
   * clientGone aborts the request's signal (at once if it was read, else as soon as it
   * is); the edge calls it when the client goes away before the answer.
   */
  clientGone(): void;
}

/**
 * createLazyRestRequest returns the transcoder's view of a REST request whose headers
 * and abort signal are built only when read: no KMS method reads either, and an abort
 * controller per call costs more than the rest of the plumbing. A class instance, not an
 * object literal with getters, which V8 builds through its slow path (several µs each).
 */
export function createLazyRestRequest(init: LazyRestRequestInit): LazyRestRequest {
  return new LazyRequest(init);
}

class LazyRequest implements LazyRestRequest {
  readonly method: string;
  readonly rawPath: string;
  readonly rawQuery: string;
  readonly body: Uint8Array;
  readonly contextValues: ContextValues;
  readonly #buildHeaders: () => Headers;
  #headers: Headers | undefined;
  #abort: AbortController | undefined;
  #gone = false;

  constructor(init: LazyRestRequestInit) {
    this.method = init.method;
    this.rawPath = init.rawPath;
    this.rawQuery = init.rawQuery;
    this.body = init.body;
    this.contextValues = init.contextValues;
    this.#buildHeaders = init.headers;
  }

  get headers(): Headers {
    this.#headers ??= this.#buildHeaders();
    return this.#headers;
  }

  get signal(): AbortSignal {
    if (this.#abort === undefined) {
      this.#abort = new AbortController();
      if (this.#gone) this.#abort.abort();
    }
    return this.#abort.signal;
  }

  clientGone(): void {
    this.#gone = true;
    this.#abort?.abort();
  }
}
