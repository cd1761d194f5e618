import type { IncomingMessage } from "node:http";
import type { Http2ServerRequest } from "node:http2";
import type { PreauthBudget } from "./preauth-budget.js";
import type { StopSignal } from "./stop-signal.js";

/** bodyLimitBytes is the largest request body the gateway reads: 1 MiB (contract §4). */
export const bodyLimitBytes = 1024 * 1024;

/**
 * BodyReadResult is a whole body; or the chunks read before it went over the limit; or,
 * when reading under a budget, the news that the budget had no room (nothing kept).
 */
export type BodyReadResult =
  | { complete: true; body: Uint8Array }
  | { complete: false; head: Uint8Array[] }
  | { complete: false; overBudget: true };

/** ReadBodyOptions bound one read. */
export interface ReadBodyOptions {
  /** The largest body read; 1 MiB by default. */
  limit?: number;
  /**
   * Every byte held is taken from this budget while the read lasts and until the
   * caller releases it (`reserved` bytes of it are the caller's on success). When
   * it has no room the read stops and the result says `overBudget`.
   */
  budget?: PreauthBudget;
  /** Stops the read (the promise rejects with the signal's reason), e.g. at a deadline. */
  signal?: StopSignal;
}

/**
 * readBody reads a request body into memory, stopping at `limit` bytes. A body
 * over the limit is left paused, not destroyed: the caller answers 413 (REST)
 * or hands the head and the rest of the stream to a handler that enforces its
 * own limit (RPC). Breaking out of `for await` would destroy the request, and
 * over HTTP/1.1 the socket with it, before the answer is written. A request that
 * goes away before its end rejects the promise, so no read waits forever.
 *
 * With a budget, the declared Content-Length is reserved before anything is read
 * (so a request that cannot fit is refused without reading a byte), and chunked
 * bodies reserve chunk by chunk. The caller releases `reserved(result)` bytes when
 * it no longer holds the body unauthenticated.
 */
export function readBody(
  req: IncomingMessage | Http2ServerRequest,
  { limit = bodyLimitBytes, budget, signal }: ReadBodyOptions = {},
): Promise<BodyReadResult> {
  const declared = declaredLength(req);
  if (declared !== undefined && declared > limit) {
    return Promise.resolve({ complete: false, head: [] });
  }
  let reserved = 0;
  if (budget !== undefined && declared !== undefined) {
    if (!budget.tryReserve(declared)) return Promise.resolve({ complete: false, overBudget: true });
    reserved = declared;
  }
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let size = 0;
    const giveBack = () => {
      budget?.release(reserved);
      reserved = 0;
    };
    followBody(req, signal, {
      data(chunk, halt) {
        size += chunk.byteLength;
        if (budget !== undefined && size > reserved) {
          // A chunked body (or one longer than declared, which the parser refuses anyway).
          if (!budget.tryReserve(size - reserved)) {
            halt();
            giveBack();
            resolve({ complete: false, overBudget: true });
            return;
          }
          reserved = size;
        }
        chunks.push(chunk);
        if (size > limit) {
          halt();
          giveBack();
          resolve({ complete: false, head: chunks });
        }
      },
      end() {
        // Keep exactly what is held; a short body gives back the rest of its declaration.
        if (budget !== undefined && reserved > size) {
          budget.release(reserved - size);
          reserved = size;
        }
        // A small body arrives in one chunk, already a buffer of its own: no copy.
        resolve({
          complete: true,
          body: chunks.length === 1 ? (chunks[0] as Uint8Array) : Buffer.concat(chunks),
        });
      },
      fail(err) {
        giveBack();
        reject(err);
      },
    });
  });
}

/** restOfBody yields the chunks already read, then whatever the request still has. */
export async function* restOfBody(
  head: Uint8Array[],
  req: IncomingMessage | Http2ServerRequest,
): AsyncIterable<Uint8Array> {
  yield* head;
  yield* req as AsyncIterable<Uint8Array>;
}

/**
 * discardBody reads a request body and throws it away, up to `limit` bytes: it resolves
 * true when the body ended within that, false (leaving the request paused) when it is
 * longer. Nothing is kept, so a refused request costs no memory; reading a small body
 * to its end lets an HTTP/1.1 client that is still sending it read the refusal on a
 * connection kept alive, instead of a reset (EPIPE). It rejects like readBody when the
 * request goes away or `signal` aborts.
 */
export function discardBody(
  req: IncomingMessage | Http2ServerRequest,
  limit: number,
  signal?: StopSignal,
): Promise<boolean> {
  const declared = declaredLength(req);
  if (declared !== undefined && declared > limit) {
    return Promise.resolve(false);
  }
  return new Promise((resolve, reject) => {
    let size = 0;
    followBody(req, signal, {
      data(chunk, halt) {
        size += chunk.byteLength;
        if (size > limit) {
          halt();
          resolve(false);
        }
      },
      end: () => resolve(true),
      fail: reject,
    });
  });
}

/** The Content-Length a request declares, when it declares a finite one. */
function declaredLength(req: IncomingMessage | Http2ServerRequest): number | undefined {
  if (req.headers["content-length"] === undefined) return undefined;
  const declared = Number(req.headers["content-length"]);
  return Number.isFinite(declared) ? declared : undefined;
}

/** What one body read does with each event; `halt` stops it, leaving the request paused. */
interface BodyFollower {
  data(chunk: Uint8Array, halt: () => void): void;
  end(): void;
  fail(err: Error): void;
}

/**
 * followBody is the read loop readBody and discardBody share: it feeds the request's
 * chunks to `on.data`, and detaches every listener before `on.end` or `on.fail` runs,
 * so each read settles once. A request that closes before its end, or `signal`
 * aborting, fails the read, so no read waits forever. `halt` pauses instead of
 * destroying (see readBody for why).
 */
function followBody(
  req: IncomingMessage | Http2ServerRequest,
  signal: StopSignal | undefined,
  on: BodyFollower,
): void {
  const detach = () => {
    req.off("data", onData);
    req.off("end", onEnd);
    req.off("error", onError);
    req.off("close", onClose);
    signal?.removeEventListener("abort", onAbort);
  };
  const halt = () => {
    detach();
    req.pause();
  };
  const onData = (chunk: Uint8Array) => on.data(chunk, halt);
  const onEnd = () => {
    detach();
    on.end();
  };
  const onError = (err: Error) => {
    detach();
    on.fail(err);
  };
  const onClose = () => onError(new Error("request closed before its body ended"));
  const onAbort = () =>
    onError(signal?.reason instanceof Error ? signal.reason : new Error("body read aborted"));
  if (signal?.aborted) {
    onAbort();
    return;
  }
  req.on("data", onData);
  req.on("end", onEnd);
  req.on("error", onError);
  req.on("close", onClose);
  signal?.addEventListener("abort", onAbort, { once: true });
}
