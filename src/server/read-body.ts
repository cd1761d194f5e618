import type { IncomingMessage } from "node:http";
import type { Http2ServerRequest } from "node:http2";
import type { PreauthBudget } from "./preauth-budget.js";

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
  signal?: AbortSignal;
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
  options: ReadBodyOptions | number = {},
): Promise<BodyReadResult> {
  const {
    limit = bodyLimitBytes,
    budget,
    signal,
  } = typeof options === "number" ? { limit: options } : options;
  const declared = Number(req.headers["content-length"]);
  const hasDeclared = req.headers["content-length"] !== undefined && Number.isFinite(declared);
  if (hasDeclared && declared > limit) {
    return Promise.resolve({ complete: false, head: [] });
  }
  let reserved = 0;
  if (budget !== undefined && hasDeclared) {
    if (!budget.tryReserve(declared)) return Promise.resolve({ complete: false, overBudget: true });
    reserved = declared;
  }
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let size = 0;
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onClose);
      signal?.removeEventListener("abort", onAbort);
    };
    const giveBack = () => {
      budget?.release(reserved);
      reserved = 0;
    };
    const onData = (chunk: Uint8Array) => {
      size += chunk.byteLength;
      if (budget !== undefined && size > reserved) {
        // A chunked body (or one longer than declared, which the parser refuses anyway).
        if (!budget.tryReserve(size - reserved)) {
          cleanup();
          req.pause();
          giveBack();
          resolve({ complete: false, overBudget: true });
          return;
        }
        reserved = size;
      }
      chunks.push(chunk);
      if (size > limit) {
        cleanup();
        req.pause();
        giveBack();
        resolve({ complete: false, head: chunks });
      }
    };
    const onEnd = () => {
      cleanup();
      // Keep exactly what is held; a short body gives back the rest of its declaration.
      if (budget !== undefined && reserved > size) {
        budget.release(reserved - size);
        reserved = size;
      }
      resolve({ complete: true, body: Buffer.concat(chunks) });
    };
    const onError = (err: Error) => {
      cleanup();
      giveBack();
      reject(err);
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
  signal?: AbortSignal,
): Promise<boolean> {
  const declared = Number(req.headers["content-length"]);
  if (
    req.headers["content-length"] !== undefined &&
    Number.isFinite(declared) &&
    declared > limit
  ) {
    return Promise.resolve(false);
  }
  return new Promise((resolve, reject) => {
    let size = 0;
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onClose);
      signal?.removeEventListener("abort", onAbort);
    };
    const onData = (chunk: Uint8Array) => {
      size += chunk.byteLength;
      if (size > limit) {
        cleanup();
        req.pause();
        resolve(false);
      }
    };
    const onEnd = () => {
      cleanup();
      resolve(true);
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
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
  });
}
