import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import type { AddressInfo } from "node:net";
import type { GatewayMetrics } from "./gateway-metrics.js";

type NodeRequest = IncomingMessage | Http2ServerRequest;
type NodeResponse = ServerResponse | Http2ServerResponse;

/** METRICS_PATH is where the Prometheus text is served. */
export const METRICS_PATH = "/metrics";

/** MetricsEndpoint answers `GET /metrics`, checking the bearer token when one is set. */
export type MetricsEndpoint = (req: NodeRequest, res: NodeResponse) => void;

/**
 * createMetricsEndpoint returns the `/metrics` handler. With a token, a request must
 * carry `Authorization: Bearer <token>`; the comparison hashes both sides first, so it
 * takes the same time whatever the token's length and wherever a guess goes wrong. A
 * refusal says only that a token is needed, never whether one was close.
 */
export function createMetricsEndpoint(options: {
  metrics: GatewayMetrics;
  token: string | null;
}): MetricsEndpoint {
  const expected = options.token === null ? null : digest(options.token);
  return (req, res) => {
    const headers = { "Cache-Control": "no-store" };
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { ...headers, Allow: "GET, HEAD", "Content-Type": "text/plain" });
      res.end("method not allowed\n");
      return;
    }
    if (expected !== null && !bearerMatches(req.headers.authorization, expected)) {
      res.writeHead(401, {
        ...headers,
        "Content-Type": "text/plain",
        "WWW-Authenticate": 'Bearer realm="metrics"',
      });
      res.end("a bearer token is required\n");
      return;
    }
    options.metrics.render().then(
      ({ contentType, body }) => {
        res.writeHead(200, { ...headers, "Content-Type": contentType });
        if (req.method === "HEAD") res.end();
        else res.end(body);
      },
      () => {
        res.writeHead(500, { ...headers, "Content-Type": "text/plain" });
        res.end("metrics unavailable\n");
      },
    );
  };
}

/** MetricsServer is the listener of `--metrics-address`: `/metrics` and nothing else. */
export interface MetricsServer {
  listen(host: string, port: number): Promise<AddressInfo>;
  close(): Promise<void>;
}

/**
 * createMetricsServer serves the metrics endpoint on its own HTTP/1.1 listener, so that
 * Prometheus can scrape from a private interface while the main port stays for clients.
 * Its requests carry no body worth reading; headers and idle connections are timed out.
 */
export function createMetricsServer(endpoint: MetricsEndpoint): MetricsServer {
  const server: Server = createServer(
    { headersTimeout: 10_000, requestTimeout: 10_000 },
    (req, res) => {
      const path = (req.url ?? "/").split("?")[0];
      if (path === METRICS_PATH) {
        endpoint(req, res);
        return;
      }
      res.writeHead(404, { "Content-Type": "text/plain" });
      res.end("not found: this listener serves /metrics only\n");
    },
  );
  server.keepAliveTimeout = 5_000;
  return {
    listen: (host, port) =>
      new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          resolve(server.address() as AddressInfo);
        });
      }),
    close: () =>
      new Promise((resolve) => {
        if (!server.listening) {
          resolve();
          return;
        }
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

/** bearerMatches compares the presented bearer token with the expected one in constant time. */
function bearerMatches(header: string | undefined, expected: Buffer): boolean {
  const match = header === undefined ? null : /^Bearer +(\S+) *$/i.exec(header);
  // A missing header is compared too, so its answer takes as long as a wrong token's.
  const presented = digest(match?.[1] ?? "");
  return timingSafeEqual(presented, expected) && match !== null;
}
