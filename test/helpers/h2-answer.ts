import type http2 from "node:http2";

/** H2Answer is what came back on one HTTP/2 stream. */
export interface H2Answer {
  head: http2.IncomingHttpHeaders;
  body: Buffer;
  trailers: http2.IncomingHttpHeaders;
}

/**
 * readH2Answer collects a client stream's response headers, body and trailers,
 * resolving once the stream closes and rejecting on a stream error. Call it
 * before ending the request, so no event is missed.
 */
export function readH2Answer(stream: http2.ClientHttp2Stream): Promise<H2Answer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let head: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    stream.on("response", (h) => {
      head = h;
    });
    stream.on("trailers", (t) => {
      trailers = t;
    });
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("error", reject);
    stream.on("close", () => resolve({ head, body: Buffer.concat(chunks), trailers }));
  });
}
