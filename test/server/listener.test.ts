import { createHash } from "node:crypto";
import http from "node:http";
import http2 from "node:http2";
import https from "node:https";
import net from "node:net";
import { Duplex } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import tls from "node:tls";
import { describe, expect, it } from "vitest";
import type { ListenerHandler } from "../../src/server/listener.js";
import { useSelfSignedCert } from "../helpers/self-signed-cert.js";
import { useListeners } from "../helpers/use-listeners.js";
import { type Echoed, echo } from "./fixtures/echo-handler.js";

/** Handler whose `/slow` requests wait until released, reporting when they arrive. */
function slowHandler() {
  const arrived: Array<() => void> = [];
  let release = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const handler: ListenerHandler = (req, res) => {
    if (req.url !== "/slow") return echo(req, res);
    req.resume();
    for (const notify of arrived.splice(0)) notify();
    void released.then(() => res.end("slow done"));
  };
  const nextArrival = () => new Promise<void>((resolve) => arrived.push(resolve));
  return { handler, release, nextArrival };
}

const start = useListeners();

/**
 * noDelayOf reads whether Node set TCP_NODELAY on a server socket: Node keeps that choice
 * under an internal symbol (http.createServer sets it by default; a server fed by
 * emit("connection") must set it itself). An HTTP/2 request's socket is a proxy that reads
 * through to the session's socket; a TLS socket's `_parent` is the TCP socket it wraps.
 */
const kSetNoDelay = Object.getOwnPropertySymbols(new net.Socket()).find(
  (s) => s.description === "kSetNoDelay",
);
function noDelayOf(socket: unknown): unknown {
  if (kSetNoDelay === undefined) throw new Error("this Node keeps no kSetNoDelay on its sockets");
  return (socket as Record<symbol, unknown>)[kSetNoDelay];
}

function h1Request(options: http.RequestOptions & { body?: Buffer }): Promise<{
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  socket: net.Socket;
}> {
  return new Promise((resolve, reject) => {
    const req = http.request(options, (res) => {
      const socket = res.socket; // detached (null) once an agent takes it back
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
          socket,
        }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

function h2Request(
  session: http2.ClientHttp2Session,
  path: string,
  body?: Buffer,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ":path": path, ":method": body ? "POST" : "GET" });
    let status = 0;
    const chunks: Buffer[] = [];
    stream.on("response", (headers) => {
      status = Number(headers[":status"]);
    });
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => resolve({ status, body: Buffer.concat(chunks).toString() }));
    stream.on("error", reject);
    stream.end(body);
  });
}

async function withSession<T>(
  url: string,
  options: http2.SecureClientSessionOptions,
  use: (s: http2.ClientHttp2Session) => Promise<T>,
): Promise<T> {
  const session = http2.connect(url, options);
  session.on("error", () => {});
  try {
    return await use(session);
  } finally {
    session.close();
  }
}

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const bigBody = Buffer.alloc(1024 * 1024 + 7, "kms");

function closed(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) resolve();
    else socket.once("close", () => resolve());
  });
}

describe("cleartext: HTTP/1.1 and h2c on one port", () => {
  it("serves HTTP/1.1 to node's http client without losing the body", async () => {
    const { port } = await start(echo);
    const res = await h1Request({
      port,
      host: "127.0.0.1",
      path: "/a?b=c",
      method: "POST",
      body: bigBody,
    });
    expect(res.status).toBe(200);
    const echoed = JSON.parse(res.body) as Echoed;
    expect(echoed).toMatchObject({ httpVersion: "1.1", method: "POST", url: "/a?b=c" });
    expect(echoed.bytes).toBe(bigBody.length);
    expect(echoed.sha256).toBe(sha256(bigBody));
  });

  it("serves h2c to node's http2 client without losing the body", async () => {
    const { port } = await start(echo);
    const res = await withSession(`http://127.0.0.1:${port}`, {}, (s) =>
      h2Request(s, "/x", bigBody),
    );
    expect(res.status).toBe(200);
    const echoed = JSON.parse(res.body) as Echoed;
    expect(echoed).toMatchObject({ httpVersion: "2.0", method: "POST", url: "/x" });
    expect(echoed.sha256).toBe(sha256(bigBody));
  });

  it("disables Nagle's algorithm on every accepted connection, HTTP/1.1 and h2c", async () => {
    const seen: unknown[] = [];
    const { port } = await start((req, res) => {
      seen.push(noDelayOf(req.socket));
      echo(req, res);
    });
    await h1Request({ port, host: "127.0.0.1", path: "/", method: "GET" });
    await withSession(`http://127.0.0.1:${port}`, {}, (s) => h2Request(s, "/", Buffer.from("x")));
    expect(seen).toEqual([true, true]);
  });

  it("recognises an h2 preface that arrives in several TCP writes", async () => {
    const { port } = await start(echo);
    const session = http2.connect(`http://127.0.0.1:${port}`, {
      createConnection: () => choppedConnection(port, [1, 3, 12, 1, 7]),
    });
    session.on("error", () => {});
    try {
      const res = await h2Request(session, "/chopped", Buffer.from("after the preface"));
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toMatchObject({ httpVersion: "2.0", bytes: 17 });
    } finally {
      session.close();
    }
  });

  it("recognises HTTP/1.1 that starts like the preface and arrives byte by byte", async () => {
    const { port } = await start(echo);
    const socket = net.connect(port, "127.0.0.1");
    const request =
      "PUT /p HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc";
    const response = new Promise<string>((resolve) => {
      const chunks: Buffer[] = [];
      socket.on("data", (c: Buffer) => chunks.push(c));
      socket.on("close", () => resolve(Buffer.concat(chunks).toString()));
    });
    for (const ch of request) {
      socket.write(ch);
      await sleep(2);
    }
    const text = await response;
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4))).toMatchObject({
      method: "PUT",
      url: "/p",
      bytes: 3,
      sha256: sha256(Buffer.from("abc")),
    });
  });

  it("destroys a connection that sends nothing, or half a preface, in time", async () => {
    const { port } = await start(echo, { prefaceTimeoutMs: 150 });
    const silent = net.connect(port, "127.0.0.1");
    const partial = net.connect(port, "127.0.0.1", () => partial.write("PRI * HTTP/2.0\r\n"));
    for (const s of [silent, partial]) s.on("error", () => {});
    await Promise.all([closed(silent), closed(partial)]);
    expect(silent.destroyed && partial.destroyed).toBe(true);
    // The listener still serves afterwards.
    const res = await h1Request({ port, host: "127.0.0.1", path: "/" });
    expect(res.status).toBe(200);
  });
});

describe("limits", () => {
  const slowClientLimits = {
    headersTimeout: 200,
    requestTimeout: 400,
    connectionsCheckingInterval: 50,
  };

  it("answers 408 to a client that never finishes its HTTP/1.1 headers", async () => {
    // http.Server enforces headersTimeout only after 'listening', which an
    // http.Server fed by emit("connection") must be given by the listener.
    const { port } = await start(echo, { http1: slowClientLimits });
    const text = await rawExchange(port, "GET / HTTP/1.1\r\nHost: x\r\n");
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
  });

  it("closes idle HTTP/1.1 keep-alive connections and asks idle h2 sessions to go away", async () => {
    const { port } = await start(echo, { keepAliveTimeoutMs: 100, sessionIdleTimeoutMs: 150 });
    const agent = new http.Agent({ keepAlive: true });
    const { socket: kept } = await h1Request({ port, host: "127.0.0.1", path: "/", agent });
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on("error", () => {});
    const goaway = new Promise<void>((resolve) => session.once("goaway", () => resolve()));
    await h2Request(session, "/");
    await Promise.all([goaway, closed(kept)]);
    agent.destroy();
    session.destroy();
  });
});

describe("graceful close", () => {
  for (const version of ["1.1", "2"] as const) {
    it(`lets an in-flight HTTP/${version} request finish, then resolves`, async () => {
      const slow = slowHandler();
      const { listener, port } = await start(slow.handler);
      const arrived = slow.nextArrival();
      let session: http2.ClientHttp2Session | undefined;
      let response: Promise<{ status: number; body: string; headers?: http.IncomingHttpHeaders }>;
      if (version === "1.1") {
        response = h1Request({ port, host: "127.0.0.1", path: "/slow" });
      } else {
        session = http2.connect(`http://127.0.0.1:${port}`);
        session.on("error", () => {});
        response = h2Request(session, "/slow");
      }
      await arrived;
      const closing = listener.close({ graceMs: 60_000 });
      await sleep(50); // closing must not cut the request short
      slow.release();
      const res = await response;
      expect(res).toMatchObject({ status: 200, body: "slow done" });
      if (version === "1.1") {
        // The connection is not kept alive past a shutdown.
        expect(res.headers?.connection).toBe("close");
      }
      await closing;
      session?.close();
      await expect(h1Request({ port, host: "127.0.0.1", path: "/" })).rejects.toThrow(
        /ECONNREFUSED/,
      );
    });
  }

  it("does not wait for idle keep-alive connections or idle h2 sessions", async () => {
    const { listener, port } = await start(echo, {
      keepAliveTimeoutMs: 600_000,
      sessionIdleTimeoutMs: 600_000,
    });
    const agent = new http.Agent({ keepAlive: true });
    const res = await h1Request({ port, host: "127.0.0.1", path: "/", agent });
    expect(res.headers.connection).toBe("keep-alive");

    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on("error", () => {});
    expect((await h2Request(session, "/")).status).toBe(200);
    const sessionClosed = new Promise<void>((resolve) => session.once("close", () => resolve()));

    const idleSniffer = net.connect(port, "127.0.0.1");
    idleSniffer.on("error", () => {});
    await new Promise((resolve) => idleSniffer.once("connect", resolve));

    // A grace period longer than the test timeout: close() must not need it.
    await listener.close({ graceMs: 600_000 });
    await Promise.all([sessionClosed, closed(idleSniffer), closed(res.socket)]);
    agent.destroy();
  });

  it("destroys what is still running at the deadline", async () => {
    const slow = slowHandler();
    const { listener, port } = await start(slow.handler);
    const arrived = slow.nextArrival();
    const response = h1Request({ port, host: "127.0.0.1", path: "/slow" });
    await arrived;
    await listener.close({ graceMs: 100 });
    await expect(response).rejects.toThrow(/socket hang up|ECONNRESET/);
    slow.release();
  });
});

describe("TLS with ALPN", () => {
  const { cert, key } = useSelfSignedCert();

  it("negotiates h2 and http/1.1 with node clients", async () => {
    const { port } = await start(echo, { tls: { cert, key } });
    const h2 = await withSession(
      `https://localhost:${port}`,
      { ca: cert, host: "127.0.0.1" },
      (s) => h2Request(s, "/secure", Buffer.from("xyz")),
    );
    expect(JSON.parse(h2.body)).toMatchObject({ httpVersion: "2.0", url: "/secure", bytes: 3 });

    const h1 = await new Promise<string>((resolve, reject) => {
      const req = https.request(
        {
          host: "127.0.0.1",
          servername: "localhost",
          port,
          path: "/h1",
          ca: cert,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => resolve(Buffer.concat(chunks).toString()));
        },
      );
      req.on("error", reject);
      req.end();
    });
    // node's https client offers no ALPN at all, which allowHTTP1 serves as HTTP/1.1.
    expect(JSON.parse(h1)).toMatchObject({ httpVersion: "1.1", url: "/h1" });
  });

  it("disables Nagle's algorithm on TLS connections too", async () => {
    const seen: unknown[] = [];
    const { port } = await start(
      (req, res) => {
        seen.push(noDelayOf((req.socket as net.Socket & { _parent?: net.Socket })._parent));
        res.end("ok");
      },
      { tls: { cert, key } },
    );
    await new Promise<void>((resolve, reject) => {
      https
        .request(
          { host: "127.0.0.1", servername: "localhost", port, path: "/", ca: cert },
          (res) => {
            res.resume();
            res.on("end", () => resolve());
          },
        )
        .on("error", reject)
        .end();
    });
    expect(seen).toEqual([true]);
  });

  it("applies the HTTP/1.1 slow-client and keep-alive limits over TLS too", async () => {
    const { port } = await start(echo, {
      tls: { cert, key },
      keepAliveTimeoutMs: 100,
      http1: { headersTimeout: 200, requestTimeout: 400, connectionsCheckingInterval: 50 },
    });
    const exchange = (request: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = tls.connect(
          {
            host: "127.0.0.1",
            port,
            servername: "localhost",
            ca: cert,
            ALPNProtocols: ["http/1.1"],
          },
          () => socket.write(request),
        );
        const chunks: Buffer[] = [];
        socket.on("data", (c: Buffer) => chunks.push(c));
        socket.on("error", reject);
        socket.on("close", () => resolve(Buffer.concat(chunks).toString()));
      });
    // Unfinished headers: 408. A complete keep-alive request: answered, then closed when idle.
    expect(await exchange("GET / HTTP/1.1\r\nHost: x\r\n")).toMatch(/^HTTP\/1\.1 408 /);
    const kept = await exchange("GET /k HTTP/1.1\r\nHost: x\r\n\r\n");
    expect(kept).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(kept).toMatch(/\r\nConnection: keep-alive\r\n/i);
  });

  it("closes gracefully with idle TLS connections of both kinds", async () => {
    const slow = slowHandler();
    const { listener, port } = await start(slow.handler, {
      tls: { cert, key },
    });
    const agent = new https.Agent({
      keepAlive: true,
      ca: cert,
      servername: "localhost",
    });
    const idle = await new Promise<number>((resolve, reject) => {
      https
        .get({ host: "127.0.0.1", port, path: "/", agent }, (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        })
        .on("error", reject);
    });
    expect(idle).toBe(200);
    const session = http2.connect(`https://localhost:${port}`, {
      ca: cert,
      host: "127.0.0.1",
    });
    session.on("error", () => {});
    const arrived = slow.nextArrival();
    const response = h2Request(session, "/slow");
    await arrived;
    const closing = listener.close({ graceMs: 600_000 });
    slow.release();
    expect(await response).toEqual({ status: 200, body: "slow done" });
    await closing;
    agent.destroy();
  });
});

/** rawExchange writes `request` on a fresh TCP connection and returns all it reads until close. */
function rawExchange(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => socket.write(request));
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", reject);
    socket.on("close", () => resolve(Buffer.concat(chunks).toString()));
  });
}

/**
 * choppedConnection is a TCP connection whose first write (the client preface)
 * goes out in pieces of the given sizes, a few milliseconds apart.
 */
function choppedConnection(port: number, pieces: number[]): Duplex {
  const socket = net.connect(port, "127.0.0.1");
  let first = true;
  const duplex = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, callback) {
      if (!first) {
        socket.write(chunk, callback);
        return;
      }
      first = false;
      void (async () => {
        let offset = 0;
        for (const size of pieces) {
          socket.write(chunk.subarray(offset, offset + size));
          offset += size;
          await sleep(20);
        }
        socket.write(chunk.subarray(offset), callback);
      })();
    },
    final(callback) {
      socket.end(callback);
    },
    destroy(err, callback) {
      socket.destroy();
      callback(err);
    },
  });
  socket.on("data", (c: Buffer) => duplex.push(c));
  socket.on("end", () => duplex.push(null));
  socket.on("error", (err) => duplex.destroy(err));
  return duplex;
}
