import type { IncomingMessage } from "node:http";
import type { Http2ServerRequest } from "node:http2";

/** bodyLimitBytes is the largest request body the gateway reads: 1 MiB (contract §4). */
export const bodyLimitBytes = 1024 * 1024;

/** BodyReadResult is a whole body, or the chunks read before it went over the limit. */
export type BodyReadResult =
  | { complete: true; body: Uint8Array }
  | { complete: false; head: Uint8Array[] };

/**
 * readBody reads a request body into memory, stopping at `limit` bytes. A body
 * over the limit is left paused, not destroyed: the caller answers 413 (REST)
 * or hands the head and the rest of the stream to a handler that enforces its
 * own limit (RPC). Breaking out of `for await` would destroy the request, and
 * over HTTP/1.1 the socket with it, before the answer is written.
 */
export function readBody(
  req: IncomingMessage | Http2ServerRequest,
  limit: number = bodyLimitBytes,
): Promise<BodyReadResult> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) {
    return Promise.resolve({ complete: false, head: [] });
  }
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let size = 0;
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
    };
    const onData = (chunk: Uint8Array) => {
      size += chunk.byteLength;
      chunks.push(chunk);
      if (size > limit) {
        cleanup();
        req.pause();
        resolve({ complete: false, head: chunks });
      }
    };
    const onEnd = () => {
      cleanup();
      resolve({ complete: true, body: Buffer.concat(chunks) });
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
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
