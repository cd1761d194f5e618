import { existsSync, readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** OPENAPI_PATH is where the REST surface's OpenAPI document is served. */
export const OPENAPI_PATH = "/openapi.json";

/** OPENAPI_FILE is the generated document, relative to the package root (npm run openapi). */
export const OPENAPI_FILE = join("openapi", "kms-admin.json");

/**
 * findOpenApiFile looks for openapi/kms-admin.json in the package root: up from this
 * module, which sits at src/server/ under tsx and dist/src/server/ once built.
 */
export function findOpenApiFile(from = dirname(fileURLToPath(import.meta.url))): string | null {
  let dir = from;
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, OPENAPI_FILE);
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  return null;
}

/**
 * createOpenApiEndpoint returns the `GET /openapi.json` handler, or null when the document
 * is not there (a checkout that never ran the generator). The document is read once. It is
 * served without authentication: it describes the public API, like server reflection,
 * and holds no configuration, key or identity.
 */
export function createOpenApiEndpoint(
  file: string | null = findOpenApiFile(),
):
  | ((req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) => void)
  | null {
  if (file === null) return null;
  const body = readFileSync(file);
  return (req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { Allow: "GET, HEAD", "Content-Type": "text/plain" });
      res.end("method not allowed\n");
      return;
    }
    res.writeHead(200, {
      "Content-Type": "application/json",
      "Content-Length": String(body.byteLength),
      "Cache-Control": "no-cache",
    });
    if (req.method === "HEAD") res.end();
    else res.end(body);
  };
}
