/** CORS_ALLOWED_METHODS are the methods the admin API answers to. */
export const CORS_ALLOWED_METHODS = "GET, POST, PUT, DELETE";

/**
 * CORS_ALLOWED_HEADERS are the request headers a browser console may send: the
 * ones SigV4 signs with (aws4fetch sets `x-amz-date`, `x-amz-content-sha256`
 * and, with session credentials, `x-amz-security-token`) and JSON's content type.
 */
export const CORS_ALLOWED_HEADERS =
  "authorization, content-type, x-amz-content-sha256, x-amz-date, x-amz-security-token, x-amz-user-agent, x-request-id";

/** CORS_MAX_AGE_SECONDS is how long a browser may reuse a preflight answer. */
const CORS_MAX_AGE_SECONDS = "600";

/** CorsResponse is the part of a Node response (HTTP/1.1 or HTTP/2) CORS writes to. */
export interface CorsResponse {
  setHeader(name: string, value: string): unknown;
  writeHead(status: number): unknown;
  end(): unknown;
}

/** Cors applies the gateway's CORS policy to one request on an admin path. */
export interface Cors {
  /**
   * apply adds `Access-Control-Allow-Origin` (and `Vary: Origin`) to the
   * response when the request's `Origin` is allowed, and answers a preflight
   * from an allowed origin itself — 204 with the allowed methods and headers,
   * before any authentication, as browsers send preflights unsigned. It
   * returns true when it answered. Requests from any other origin, or with no
   * `Origin`, get no CORS header and go on as usual.
   */
  apply(
    method: string,
    headers: Readonly<Record<string, string | string[] | undefined>>,
    res: CorsResponse,
  ): boolean;
}

/**
 * createCors returns the CORS policy for the given origins (exact
 * `scheme://host[:port]` strings, see parseCorsOrigin). The caller applies it
 * to the admin API's paths only: no other path ever gets a CORS header.
 */
export function createCors(origins: readonly string[]): Cors {
  const allowed = new Set(origins.map(parseCorsOrigin));
  return {
    apply(method, headers, res) {
      const origin = headers.origin;
      if (typeof origin !== "string" || !allowed.has(origin)) {
        return false;
      }
      res.setHeader("access-control-allow-origin", origin);
      // The answer depends on Origin, so a shared cache must not reuse it for another.
      res.setHeader("vary", "Origin");
      const preflight =
        method === "OPTIONS" && typeof headers["access-control-request-method"] === "string";
      if (!preflight) {
        res.setHeader("access-control-expose-headers", "x-request-id");
        return false;
      }
      res.setHeader("access-control-allow-methods", CORS_ALLOWED_METHODS);
      res.setHeader("access-control-allow-headers", CORS_ALLOWED_HEADERS);
      res.setHeader("access-control-max-age", CORS_MAX_AGE_SECONDS);
      res.writeHead(204);
      res.end();
      return true;
    },
  };
}

/**
 * parseCorsOrigin checks one `--cors-origin` value: an `http` or `https`
 * origin exactly as browsers send it (`https://console.example.com:9001`, no
 * path, no trailing slash). `*` is refused: the admin API hands out key
 * material, so every origin allowed to script it is named.
 */
export function parseCorsOrigin(origin: string): string {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    throw new Error(
      `--cors-origin must be an origin such as https://console.example.com, not "${origin.slice(0, 100)}"`,
    );
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || url.origin !== origin) {
    throw new Error(
      `--cors-origin must be an origin such as https://console.example.com (scheme, host and port only), not "${origin.slice(0, 100)}"`,
    );
  }
  return origin;
}
