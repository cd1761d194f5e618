import { request } from "node:http";
import { connect, constants } from "node:http2";
import type { HttpRequestSpec } from "./wrk-script.js";

/** Answer is one response, body read in full; `trailers` only over HTTP/2. */
export interface Answer {
  status: number;
  headers: Record<string, string>;
  trailers: Record<string, string>;
  body: Uint8Array;
}

const TIMEOUT_MS = 10_000;

/**
 * sendHttp1 sends exactly the request the load generator will replay — same
 * method, path, headers (including `host`) and body — over HTTP/1.1.
 */
export function sendHttp1(baseUrl: string, spec: HttpRequestSpec): Promise<Answer> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: Number(url.port),
        method: spec.method,
        path: spec.path,
        headers: spec.headers,
        setHost: false,
        timeout: TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: flatten(res.headers),
            trailers: {},
            body: Buffer.concat(chunks),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error("no answer in time")));
    req.on("error", reject);
    req.end(spec.body);
  });
}

/** sendHttp2 sends the request over cleartext HTTP/2 (h2c, prior knowledge), as h2load does. */
export function sendHttp2(baseUrl: string, spec: HttpRequestSpec): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const session = connect(baseUrl);
    session.on("error", reject);
    const { host, ...rest } = spec.headers;
    const stream = session.request({
      ...rest,
      [constants.HTTP2_HEADER_METHOD]: spec.method,
      [constants.HTTP2_HEADER_PATH]: spec.path,
      [constants.HTTP2_HEADER_AUTHORITY]: host ?? new URL(baseUrl).host,
    });
    stream.setTimeout(TIMEOUT_MS, () => stream.close(constants.NGHTTP2_CANCEL));
    let headers: Record<string, string> = {};
    let trailers: Record<string, string> = {};
    const chunks: Buffer[] = [];
    stream.on("response", (h) => {
      headers = flatten(h);
    });
    stream.on("trailers", (t) => {
      trailers = flatten(t);
    });
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => {
      session.close();
      resolve({
        status: Number(headers[":status"] ?? 0),
        headers,
        trailers,
        body: Buffer.concat(chunks),
      });
    });
    stream.on("error", (err) => {
      session.destroy();
      reject(err);
    });
    stream.end(spec.body);
  });
}

function flatten(
  headers: Record<string, string | string[] | number | undefined>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(", ") : String(value);
  }
  return out;
}
