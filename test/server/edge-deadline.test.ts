import http2 from "node:http2";
import { describe, expect, it } from "vitest";
import { useGateway } from "../helpers/gateway-process.js";
import {
  connectionStart,
  frame,
  frameFlag,
  frameType,
  goAwayCodes,
  minimalRequestHeaders,
} from "../helpers/h2-frames.js";
import { openRaw } from "../helpers/raw-http.js";
import { signedHeaders } from "../helpers/signed-fetch.js";

// Issue 5, item 4: a body that stopped arriving was held 331 s over HTTP/1.1 and
// forever over HTTP/2, and a session that had sent an error GOAWAY kept its socket
// 120 s. Now every body has a deadline (shortened to 500 ms here) and an error GOAWAY
// is followed by closing the socket.

const bodyTimeoutMs = 500;
const createKeyPath = "/rustfs/admin/v3/kms/keys";
const body = '{"KeyUsage":"ENCRYPT_DECRYPT","Description":"stalled"}';

const gw = useGateway({ spawn: () => ({ args: ["--body-timeout-ms", String(bodyTimeoutMs)] }) });

/** h2Stalled opens a signed h2 stream that sends half its body and never ends it. */
async function h2Stalled(session: http2.ClientHttp2Session) {
  const headers = await signedHeaders(gw.url, "POST", createKeyPath, { body });
  const { host: _, ...rest } = headers;
  const stream = session.request({ ":method": "POST", ":path": createKeyPath, ...rest });
  stream.on("error", () => {});
  stream.resume(); // a stream reset with NO_ERROR closes once its response is read
  stream.write(body.slice(0, 10));
  return stream;
}

describe("body deadline", () => {
  it("answers 408 to a stalled HTTP/1.1 body within the deadline and closes the connection", async () => {
    const headers = await signedHeaders(gw.url, "POST", createKeyPath, { body });
    const head = Object.entries({ ...headers, "content-length": String(body.length) })
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join("");
    const started = performance.now();
    const conn = await openRaw(
      gw.port,
      `POST ${createKeyPath} HTTP/1.1\r\n${head}\r\n${body.slice(0, 10)}`,
    );
    const text = await conn.waitFor('"code":"RequestTimeout"', 5_000);
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(text).toMatch(/\r\nconnection: close\r\n/i);
    await conn.closed;
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(bodyTimeoutMs - 50);
    expect(elapsed).toBeLessThan(bodyTimeoutMs + 2_500);
  });

  it("answers 408 to a stalled h2 body and resets the stream; the session lives on", async () => {
    const session = http2.connect(gw.url);
    session.on("error", () => {});
    try {
      const started = performance.now();
      const stream = await h2Stalled(session);
      const status = await new Promise<number>((resolve) =>
        stream.once("response", (h) => resolve(Number(h[":status"]))),
      );
      await new Promise<void>((resolve) => stream.once("close", () => resolve()));
      expect(status).toBe(408);
      expect(performance.now() - started).toBeLessThan(bodyTimeoutMs + 2_500);
      // The stream is released, not the connection: the same session still serves.
      const again = session.request({ ":path": "/health" });
      again.setEncoding("utf8");
      let text = "";
      again.on("data", (chunk: string) => {
        text += chunk;
      });
      await new Promise<void>((resolve) => again.once("end", () => resolve()));
      expect(JSON.parse(text)).toEqual({ status: "ok" });
    } finally {
      session.destroy();
    }
  });

  it("releases an h2 stream that never sends END_STREAM, even on an unauthenticated path", async () => {
    // A gRPC health check whose request body never ends: the handler waits for it.
    const session = http2.connect(gw.url);
    session.on("error", () => {});
    try {
      const stream = session.request({
        ":method": "POST",
        ":path": "/grpc.health.v1.Health/Check",
        "content-type": "application/grpc",
        te: "trailers",
      });
      stream.on("error", () => {});
      stream.resume();
      stream.write(Buffer.from([0, 0, 0, 0, 0])); // an empty message, but no END_STREAM
      const started = performance.now();
      await new Promise<void>((resolve) => stream.once("close", () => resolve()));
      expect(performance.now() - started).toBeLessThan(bodyTimeoutMs + 2_500);
    } finally {
      session.destroy();
    }
  });
});

describe("an HTTP/2 connection error closes the socket", () => {
  // Raw frames, not node:http2's client: that client closes its own socket as soon as
  // it receives an error GOAWAY, which would hide whether the server closes it.
  it("closes the socket promptly after a GOAWAY for a protocol error (DATA on stream 0)", async () => {
    const started = performance.now();
    const conn = await openRaw(
      gw.port,
      Buffer.concat([connectionStart, frame(frameType.data, 0, 0, Buffer.from("x"))]),
    );
    await Promise.race([conn.closed, new Promise((r) => setTimeout(r, 8_000))]);
    expect(conn.socket.destroyed || conn.socket.readableEnded).toBe(true);
    expect(goAwayCodes(conn.received())).toContain(http2.constants.NGHTTP2_PROTOCOL_ERROR);
    expect(performance.now() - started).toBeLessThan(8_000);
    conn.socket.destroy();
  });

  it("closes the socket promptly after a rapid reset", async () => {
    const frames: Buffer[] = [connectionStart];
    for (let i = 0; i < 1_200; i++) {
      const id = 1 + 2 * i;
      frames.push(frame(frameType.headers, frameFlag.endHeaders, id, minimalRequestHeaders));
      frames.push(frame(frameType.rstStream, 0, id, Buffer.from([0, 0, 0, 8]))); // CANCEL
    }
    const started = performance.now();
    const conn = await openRaw(gw.port, Buffer.concat(frames));
    await Promise.race([conn.closed, new Promise((r) => setTimeout(r, 8_000))]);
    expect(conn.socket.destroyed || conn.socket.readableEnded).toBe(true);
    expect(goAwayCodes(conn.received())).toContain(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
    expect(performance.now() - started).toBeLessThan(8_000);
    conn.socket.destroy();
    // The server is fine afterwards.
    const health = await fetch(`${gw.url}/health`);
    expect(health.status).toBe(200);
  });
});
