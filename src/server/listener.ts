import http, { type IncomingMessage, type ServerResponse } from "node:http";
import http2, { type Http2ServerRequest, type Http2ServerResponse } from "node:http2";
import net, { type AddressInfo, type Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { sniffPreface } from "./listener-preface.js";
import { watchSession } from "./session-watchdog.js";

/** ListenerHandler is the one request handler every protocol and HTTP version reaches. */
export type ListenerHandler = (
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
) => void;

/** ListenerOptions configure createListener; every limit has a safe default. */
export interface ListenerOptions {
  handler: ListenerHandler;
  /** PEM certificate and key: serve TLS with ALPN (`h2`, `http/1.1`) instead of cleartext. */
  tls?: { cert: Buffer | string; key: Buffer | string };
  /** How long a new connection may take to show its protocol (preface or TLS handshake). */
  prefaceTimeoutMs?: number;
  /** How long an idle HTTP/1.1 keep-alive connection stays open (5 s by default). */
  keepAliveTimeoutMs?: number;
  /** Node's HTTP/1.1 slow-client limits, over its defaults (headers 60 s, request 300 s, checked every 30 s). */
  http1?: {
    headersTimeout?: number;
    requestTimeout?: number;
    connectionsCheckingInterval?: number;
  };
  /**
   * How long an HTTP/2 session may stay without an open stream before it is asked to go
   * away (120 s). A session that ended itself with an error GOAWAY is destroyed within
   * seconds whatever this says (see watchSession).
   */
  sessionIdleTimeoutMs?: number;
  /** HTTP/2 settings merged over the defaults (256 concurrent streams, 32 KiB of headers). */
  http2Settings?: http2.Settings;
  /** Called with connection-level errors (resets, bad frames); they are ignored by default. */
  onError?: (err: Error) => void;
}

/** Listener is a started-on-demand server for HTTP/1.1 and HTTP/2 on one port. */
export interface Listener {
  /** listen binds host:port (port 0 picks a free one) and resolves with the bound address. */
  listen(host: string, port: number): Promise<AddressInfo>;
  /**
   * close stops accepting, lets in-flight requests run for up to `graceMs`
   * (10 s by default), closes idle connections at once, and destroys whatever
   * is left at the deadline, so it always resolves.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

type NodeResponse = ServerResponse | Http2ServerResponse;

/**
 * createListener serves `handler` over HTTP/1.1 and HTTP/2 on one port: in
 * cleartext it tells h2c from HTTP/1.1 by the client preface (Node's
 * `allowHTTP1` only works with TLS); with `tls` it negotiates by ALPN. It
 * tracks every connection so that close() can drain them gracefully.
 */
export function createListener(options: ListenerOptions): Listener {
  const prefaceTimeoutMs = options.prefaceTimeoutMs ?? 10_000;
  const onError = options.onError ?? (() => {});
  const http2Options: http2.ServerOptions & { streamResetBurst: number; streamResetRate: number } =
    {
      maxSessionMemory: 10,
      // nghttp2's rapid-reset limit, above the session watchdog's (which closes the socket).
      streamResetBurst: 2_000,
      streamResetRate: 66,
      settings: {
        maxConcurrentStreams: 256,
        maxHeaderListSize: 32 * 1024,
        ...options.http2Settings,
      },
    };

  const sockets = new Set<Socket>(); // every accepted connection, until it closes
  const sniffing = new Map<Socket, () => void>(); // cleartext sockets not yet handed over
  const sessions = new Set<http2.ServerHttp2Session>();
  const h1Responses = new Map<Socket, Set<NodeResponse>>(); // HTTP/1.1 connections and their in-flight responses
  let closing: Promise<void> | undefined;

  function track(socket: Socket): void {
    sockets.add(socket);
    socket.on("error", onError);
    socket.once("close", () => {
      sockets.delete(socket);
      sniffing.delete(socket);
    });
  }
  function trackH1(socket: Socket): void {
    h1Responses.set(socket, new Set());
    socket.once("close", () => h1Responses.delete(socket));
  }
  function onSession(session: http2.ServerHttp2Session): void {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
    session.on("error", onError);
    watchSession(session, { idleTimeoutMs: options.sessionIdleTimeoutMs ?? 120_000 });
    if (closing) session.close();
  }
  function onRequest(req: IncomingMessage | Http2ServerRequest, res: NodeResponse): void {
    const inFlight = req.httpVersionMajor === 1 ? h1Responses.get(req.socket) : undefined;
    if (inFlight) {
      inFlight.add(res);
      if (closing) res.setHeader("connection", "close");
      res.once("close", () => {
        inFlight.delete(res);
        if (closing && inFlight.size === 0) req.socket.end();
      });
    }
    options.handler(req, res);
  }

  const keepAliveTimeout = options.keepAliveTimeoutMs ?? 5_000;
  // Both servers below disable Nagle's algorithm, as http.createServer does by default: an
  // answer goes out as soon as it is written, never held back for the client's delayed ACK.
  let server: net.Server;
  let h1Server: http.Server | undefined;
  if (options.tls) {
    const secure = http2.createSecureServer({
      ...http2Options,
      cert: options.tls.cert,
      key: options.tls.key,
      allowHTTP1: true,
      ALPNProtocols: ["h2", "http/1.1"],
      handshakeTimeout: prefaceTimeoutMs,
      noDelay: true,
    });
    // The HTTP/1.1 side of a secure HTTP/2 server reads these as properties;
    // keepAliveTimeout is otherwise undefined there, so idle TLS keep-alives would never time out.
    Object.assign(secure, { keepAliveTimeout, ...options.http1 });
    secure.on("connection", track);
    secure.on("secureConnection", (socket: TLSSocket) => {
      track(socket);
      if (socket.alpnProtocol === "h2") return;
      trackH1(socket);
      if (closing) socket.destroy();
    });
    secure.on("session", onSession);
    secure.on("request", onRequest);
    secure.on("tlsClientError", onError);
    server = secure;
  } else {
    const h1 = http.createServer({ keepAliveTimeout, ...options.http1 }, onRequest);
    const h2 = http2.createServer(http2Options, onRequest);
    h2.on("session", onSession);
    h1Server = h1;
    server = net.createServer({ noDelay: true }, (socket) => {
      track(socket);
      const abandon = sniffPreface(socket, prefaceTimeoutMs, (protocol) => {
        sniffing.delete(socket);
        if (protocol === "h2") {
          h2.emit("connection", socket);
        } else {
          trackH1(socket);
          h1.emit("connection", socket);
        }
      });
      sniffing.set(socket, abandon);
    });
    // An http.Server only starts enforcing headersTimeout/requestTimeout (its
    // slow-client checks) on 'listening', which a server fed by emit("connection") never sees.
    server.once("listening", () => h1.emit("listening"));
  }

  return {
    listen(host, port) {
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          resolve(server.address() as AddressInfo);
        });
      });
    },
    close(closeOptions = {}) {
      closing ??= drain(closeOptions.graceMs ?? 10_000);
      return closing;
    },
  };

  async function drain(graceMs: number): Promise<void> {
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    // Closes the idle keep-alive connections it knows and stops its timeout checks.
    h1Server?.close();
    for (const abandon of sniffing.values()) abandon();
    for (const session of sessions) session.close();
    for (const [socket, inFlight] of h1Responses) {
      if (inFlight.size === 0) {
        socket.destroy();
        continue;
      }
      for (const res of inFlight) {
        if (!res.headersSent) res.setHeader("connection", "close");
      }
    }
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([Promise.all([stopped, allClosed()]), deadline]);
    clearTimeout(timer);
    for (const session of sessions) session.destroy();
    for (const socket of sockets) socket.destroy();
    await stopped;
  }

  function allClosed(): Promise<void> {
    return Promise.all(
      [...sockets].map((s) => new Promise<void>((resolve) => s.once("close", () => resolve()))),
    ).then(() => undefined);
  }
}
