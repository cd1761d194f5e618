import { randomUUID } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { createKv2Engine, type Kv2Engine } from "./kv2-engine.js";
import { type AppRole, createTokenStore, type TokenOptions } from "./token-store.js";
import { createTransitEngine, type TransitEngine } from "./transit-engine.js";
import { unsupportedPath, VaultError } from "./vault-error.js";
import type { VaultReply, VaultRequest } from "./vault-request.js";

// A Vault-compatible HTTP server for tests: no Vault binary can be installed on
// these machines. It follows Vault's documented HTTP API (website/content/api-docs/
// in hashicorp/vault; the section each route follows is named beside it) for what a
// KMS gateway uses: sys/health, sys/mounts, token lookup-self and renew-self, AppRole
// login, Transit and KV v2, namespaces through X-Vault-Namespace. Every request is
// recorded, and faults can be injected on demand.

/** RecordedRequest is one request as the server saw it. */
export interface RecordedRequest {
  method: string;
  /** The path below /v1/, without the query. */
  path: string;
  query: string;
  namespace: string | null;
  /** The X-Vault-Token sent, if any (tests check it is on every request). */
  token: string | null;
  /** The parsed JSON body ({} when none). */
  body: Record<string, unknown>;
  status: number;
}

/** Faults are injected on demand; each count is used up by the requests it affects. */
export interface VaultFaults {
  /** Delay before every answer. */
  latencyMs: number;
  /** Answer the next `count` requests with `status` and a Vault error body. */
  failNext(count: number, status?: number): void;
  /** Close the connection of the next `count` requests without an answer. */
  dropNext(count: number): void;
  /** While sealed, sys/health answers 503 and every other path 503 "Vault is sealed". */
  sealed: boolean;
}

/** VaultServerOptions name the mounts and namespaces the server has. */
export interface VaultServerOptions {
  transitMounts?: string[];
  kvMounts?: string[];
  /** Namespaces besides the root one (""). */
  namespaces?: string[];
  /** Serve HTTPS with this certificate and key (PEM) instead of cleartext HTTP. */
  tls?: { cert: Buffer; key: Buffer };
}

/** VaultCompatibleServer is a running test server. */
export interface VaultCompatibleServer {
  url: string;
  rootToken: string;
  requests: RecordedRequest[];
  faults: VaultFaults;
  createToken(options?: TokenOptions): string;
  expireToken(token: string): void;
  addAppRole(role: AppRole): void;
  /** transit returns a Transit mount, for tests that inspect what it holds. */
  transit(mount?: string, namespace?: string): TransitEngine;
  kv(mount?: string, namespace?: string): Kv2Engine;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;

interface Namespace {
  transit: Map<string, TransitEngine>;
  kv: Map<string, Kv2Engine>;
}

/** startVaultCompatibleServer listens on 127.0.0.1 and a free port. */
export async function startVaultCompatibleServer(
  options: VaultServerOptions = {},
): Promise<VaultCompatibleServer> {
  const transitMounts = options.transitMounts ?? ["transit"];
  const kvMounts = options.kvMounts ?? ["secret"];
  const namespaces = new Map<string, Namespace>();
  for (const name of ["", ...(options.namespaces ?? [])]) {
    namespaces.set(name, {
      transit: new Map(transitMounts.map((m) => [m, createTransitEngine()])),
      kv: new Map(kvMounts.map((m) => [m, createKv2Engine()])),
    });
  }
  const tokens = createTokenStore();
  const requests: RecordedRequest[] = [];
  let failures: { count: number; status: number } = { count: 0, status: 500 };
  let drops = 0;
  const faults: VaultFaults = {
    latencyMs: 0,
    sealed: false,
    failNext(count, status = 500) {
      failures = { count, status };
    },
    dropNext(count) {
      drops = count;
    },
  };

  /** mounts answers "List Mounted Secrets Engines" (api-docs/system/mounts.mdx). */
  function mountsTable(): Record<string, unknown> {
    const table: Record<string, unknown> = {
      "cubbyhole/": { type: "cubbyhole", options: null },
      "sys/": { type: "system", options: null },
    };
    for (const m of transitMounts) table[`${m}/`] = { type: "transit", options: null };
    for (const m of kvMounts) table[`${m}/`] = { type: "kv", options: { version: "2" } };
    return table;
  }

  function route(
    path: string,
    req: VaultRequest,
    token: string | undefined,
    ns: Namespace,
  ): VaultReply {
    const entry = tokens.check(token, path);
    if (path === "auth/token/lookup-self" && req.method === "GET") return tokens.lookupSelf(entry);
    if (path === "auth/token/renew-self" && (req.method === "POST" || req.method === "PUT")) {
      return tokens.renewSelf(entry, req.body);
    }
    if (path === "sys/mounts" && req.method === "GET") return { data: mountsTable() };
    if (path.startsWith("sys/mounts/") && req.method === "GET") {
      const mount = (mountsTable() as Record<string, unknown>)[
        `${path.slice("sys/mounts/".length)}/`
      ];
      if (!mount) throw new VaultError(400, [`No secret engine mount at ${path.slice(11)}/`]);
      return { data: mount };
    }
    const slash = path.indexOf("/");
    const mount = slash === -1 ? path : path.slice(0, slash);
    const below = { ...req, path: slash === -1 ? "" : path.slice(slash + 1) };
    const transit = ns.transit.get(mount);
    if (transit) return transit.handle(below);
    const kv = ns.kv.get(mount);
    if (kv) return kv.handle(below);
    throw unsupportedPath(path);
  }

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://vault");
    const method = req.method ?? "GET";
    const namespace = header(req, "x-vault-namespace");
    const token = header(req, "x-vault-token");
    const record: RecordedRequest = {
      method,
      path: url.pathname.replace(/^\/v1\//, ""),
      query: url.search,
      namespace,
      token,
      body: {},
      status: 0,
    };
    requests.push(record);
    const reply = (status: number, payload: unknown) => {
      record.status = status;
      if (status === 204) {
        res.writeHead(204).end();
        return;
      }
      res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(payload));
    };
    try {
      const raw = await readBody(req);
      if (faults.latencyMs > 0) await sleep(faults.latencyMs);
      if (drops > 0) {
        drops -= 1;
        record.status = -1;
        req.socket.destroy();
        return;
      }
      if (failures.count > 0) {
        failures.count -= 1;
        throw new VaultError(failures.status, ["injected fault"]);
      }
      if (!url.pathname.startsWith("/v1/")) throw unsupportedPath(url.pathname);
      // "Read Health Information" (api-docs/system/health.mdx): unauthenticated.
      if (record.path === "sys/health" && (method === "GET" || method === "HEAD")) {
        reply(faults.sealed ? 503 : 200, {
          initialized: true,
          sealed: faults.sealed,
          standby: false,
          performance_standby: false,
          server_time_utc: Math.floor(Date.now() / 1000),
          version: "1.15.0+vault-compatible-test-server",
          cluster_name: "vault-compatible-test-server",
        });
        return;
      }
      if (faults.sealed) throw new VaultError(503, ["Vault is sealed"]);
      const body = parseBody(raw);
      record.body = body;
      const ns = namespaces.get(namespace ?? "");
      if (!ns) throw unsupportedPath(record.path);
      const vaultRequest: VaultRequest = {
        method,
        path: record.path,
        query: url.searchParams,
        body,
        // Vault parses `list` as a Go boolean: node-vault sends `?list=1`.
        list: ["1", "t", "T", "true", "TRUE", "True"].includes(url.searchParams.get("list") ?? ""),
      };
      // "Login With AppRole" (api-docs/auth/approle.mdx): unauthenticated.
      const login = /^auth\/([^/]+)\/login$/.exec(record.path);
      const answer =
        login && login[1] !== "token" && method === "POST"
          ? tokens.appRoleLogin(login[1] as string, body)
          : route(record.path, vaultRequest, token ?? undefined, ns);
      if (answer === null) {
        reply(204, null);
        return;
      }
      reply(answer.status ?? 200, {
        request_id: randomUUID(),
        lease_id: "",
        renewable: false,
        lease_duration: 0,
        data: answer.data ?? null,
        wrap_info: null,
        warnings: null,
        auth: answer.auth ?? null,
      });
    } catch (error) {
      if (error instanceof VaultError) {
        reply(error.status, { errors: error.errors });
      } else {
        reply(500, { errors: ["internal error"] });
      }
    }
  }

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    void serve(req, res);
  };
  const server = options.tls
    ? https.createServer({ cert: options.tls.cert, key: options.tls.key }, handler)
    : http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  function namespaceOf(name: string): Namespace {
    const ns = namespaces.get(name);
    if (!ns) throw new Error(`no namespace "${name}"`);
    return ns;
  }

  return {
    url: `${options.tls ? "https" : "http"}://127.0.0.1:${port}`,
    rootToken: tokens.rootToken,
    requests,
    faults,
    createToken: (o) => tokens.create(o),
    expireToken: (t) => tokens.expire(t),
    addAppRole: (r) => tokens.addAppRole(r),
    transit(mount = "transit", namespace = "") {
      const engine = namespaceOf(namespace).transit.get(mount);
      if (!engine) throw new Error(`no transit mount "${mount}"`);
      return engine;
    },
    kv(mount = "secret", namespace = "") {
      const engine = namespaceOf(namespace).kv.get(mount);
      if (!engine) throw new Error(`no kv mount "${mount}"`);
      return engine;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function header(req: IncomingMessage, name: string): string | null {
  const value = req.headers[name];
  return typeof value === "string" && value !== "" ? value : null;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    // Vault's own bound is 32 MiB (listener max_request_size); tests need far less.
    if (size > MAX_BODY_BYTES) throw new VaultError(413, ["http: request body too large"]);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function parseBody(raw: Buffer): Record<string, unknown> {
  if (raw.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString("utf8"));
  } catch (error) {
    throw new VaultError(400, [`failed to parse JSON input: ${(error as Error).message}`]);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new VaultError(400, ["failed to parse JSON input: expected an object"]);
  }
  return parsed as Record<string, unknown>;
}
