import { randomBytes } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { exceedsJsonDepth, maxJsonDepth } from "./json-depth.js";
import { decodeQueryComponent } from "./percent-encoding.js";
import type { RestRequest, RestResponse, RestTranscoder } from "./rest-transcoder.js";
import { restErrorResponse } from "./rest-transcoder.js";

/** The canonical admin prefix every adapted request is sent on to. */
const ADMIN = "/rustfs/admin/v3";
/** The admin prefixes RustFS and MinIO clients use (the second is an alias of the first). */
const ADMIN_PREFIXES = [ADMIN, "/minio/admin/v3"] as const;
/** MinIO's newer KMS router, which current `mc admin kms` and madmin-go call. */
const MINIO_KMS = "/minio/kms/v1";

/** LIST_PAGE is the page size used to walk the keys for MinIO's unpaged key list. */
const LIST_PAGE = 1000;
/** MAX_LISTED bounds MinIO's unpaged key list: madmin has no way to ask for a next page. */
export const MAX_LISTED = 10_000;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The encryption context of key/status's test value, so its blob is useless elsewhere. */
const STATUS_CONTEXT = { "kms-gateway": "key-status" };

/** LegacyRoutesOptions configure createLegacyRoutes. */
export interface LegacyRoutesOptions {
  /** The transcoder of the proto's routes; every adapted call goes through it. */
  rest: RestTranscoder;
  /** What MinIO's `GET /minio/kms/v1/version` reports. */
  version: string;
}

type Handler = (req: RestRequest, query: URLSearchParams) => Promise<RestResponse>;

/**
 * createLegacyRoutes wraps the proto-driven REST transcoder with the few
 * compatibility routes its `google.api.http` grammar cannot express, so that
 * MinIO- and RustFS-era clients work unchanged (everything the grammar can
 * say — `POST /kms/create-key`, `GET /kms/list-keys`, `GET /kms/describe-key`,
 * `POST /kms/status` — is an `additional_bindings` in the proto instead):
 *
 * - `POST /kms/key/create?key-id=NAME` (no body, or the create-key body): the
 *   key is named NAME (its `name` tag), answered as create-key answers.
 * - `GET /kms/describe-key` with the id as `keyId`, `key-id` or `key` (the
 *   first non-empty wins, as in RustFS).
 * - `GET /kms/key/status?key-id=` (the configured default key when omitted):
 *   madmin's shape — `key-id`, plus `encryption-error` / `decryption-error`
 *   when wrapping or unwrapping a fresh test value under the key fails — and
 *   the `key_metadata` RustFS's `rc key status` reads.
 * - `GET|POST /minio/admin/v3/kms/status` also carries madmin v1.4's `name`,
 *   `default-key-id` and `endpoints`.
 * - MinIO's router `/minio/kms/v1/{status,version,key/create,key/list,key/status}`.
 * - `DELETE /kms/keys/delete` refuses `force_immediate` and `confirm_key_id`
 *   in the query string, as RustFS does: an irreversible deletion must be
 *   asked for in the body, never by a URL that can be replayed from a log.
 *
 * Each adapted request becomes one or more ordinary calls of the wrapped
 * transcoder (after the edge has verified the caller), so validation, errors
 * and permissions are exactly those of the documented routes. Any other
 * request goes to the transcoder unchanged.
 */
export function createLegacyRoutes(options: LegacyRoutesOptions): RestTranscoder {
  const { rest } = options;
  const routes = new Map<string, Handler>();
  for (const prefix of ADMIN_PREFIXES) {
    routes.set(`POST ${prefix}/kms/key/create`, createNamedKey);
    routes.set(`GET ${prefix}/kms/describe-key`, describeKey);
    routes.set(`GET ${prefix}/kms/key/status`, keyStatus);
    routes.set(`DELETE ${prefix}/kms/keys/delete`, scheduleDeletion);
  }
  routes.set(`GET /minio/admin/v3/kms/status`, madminV14Status);
  routes.set(`POST /minio/admin/v3/kms/status`, madminV14Status);
  routes.set(`GET ${MINIO_KMS}/status`, minioStatus);
  routes.set(`GET ${MINIO_KMS}/version`, minioVersion);
  routes.set(`POST ${MINIO_KMS}/key/create`, createNamedKey);
  routes.set(`GET ${MINIO_KMS}/key/list`, minioKeyList);
  routes.set(`GET ${MINIO_KMS}/key/status`, keyStatus);

  /** call sends one request of the documented API through the wrapped transcoder. */
  function call(
    req: RestRequest,
    method: string,
    path: string,
    query: Record<string, string> = {},
    body?: unknown,
  ): Promise<RestResponse> {
    return rest.handle({
      method,
      rawPath: `${ADMIN}${path}`,
      rawQuery: new URLSearchParams(query).toString(),
      body: body === undefined ? new Uint8Array() : new TextEncoder().encode(JSON.stringify(body)),
      contextValues: req.contextValues,
      // Getters, so the adapted call builds headers or a signal only if the handler asks.
      get headers() {
        return req.headers;
      },
      get signal() {
        return req.signal;
      },
    });
  }

  async function createNamedKey(req: RestRequest, query: URLSearchParams): Promise<RestResponse> {
    const name = query.get("key-id");
    if (name === null) {
      return rest.handle(delegate(req, `${ADMIN}/kms/keys`));
    }
    let text: string;
    try {
      text = utf8.decode(req.body).trim();
    } catch {
      return invalid("invalid JSON");
    }
    let body: Record<string, unknown> = {};
    // Bounded before parsing, as the transcoder bounds every body it parses.
    if (exceedsJsonDepth(text)) return invalid(`JSON nests deeper than ${maxJsonDepth} levels`);
    if (text !== "") {
      const parsed = parseJson(text);
      if (parsed === undefined) return invalid("invalid JSON");
      if (!isObject(parsed)) return invalid("request body must be a JSON object");
      body = parsed;
    }
    // The create-key body spells its tags `Tags` (documented) or `tags`.
    const tagsField = Object.hasOwn(body, "tags") ? "tags" : "Tags";
    const tags = body[tagsField] ?? {};
    if (!isObject(tags)) return invalid(`invalid value for field "${tagsField}": expected object`);
    if (tags.name !== undefined && tags.name !== name) {
      return invalid('the "key-id" parameter and the name tag disagree');
    }
    return call(req, "POST", "/kms/keys", {}, { ...body, [tagsField]: { ...tags, name } });
  }

  async function scheduleDeletion(req: RestRequest, query: URLSearchParams): Promise<RestResponse> {
    if (query.has("force_immediate") || query.has("confirm_key_id")) {
      return invalid("force_immediate and confirm_key_id must be given in the JSON body");
    }
    return rest.handle(req);
  }

  function describeKey(req: RestRequest, query: URLSearchParams): Promise<RestResponse> {
    const keyId = legacyKeyId(query);
    if (keyId === undefined) return Promise.resolve(invalid("missing required parameter: 'keyId'"));
    return call(req, "GET", "/kms/describe-key", { keyId });
  }

  async function keyStatus(req: RestRequest, query: URLSearchParams): Promise<RestResponse> {
    let keyId = legacyKeyId(query);
    if (keyId === undefined) {
      const status = await call(req, "GET", "/kms/status");
      if (status.status !== 200) return status;
      const configured = jsonOf(status).default_key_id;
      if (typeof configured !== "string") {
        return invalid("no key-id given and no default key is configured");
      }
      keyId = configured;
    }
    const described = await call(req, "GET", "/kms/describe-key", { keyId });
    if (described.status !== 200) return described;
    const answer: Record<string, unknown> = {
      "key-id": keyId,
      key_metadata: jsonOf(described).key_metadata,
    };
    // Not just a metadata lookup: MinIO's key status proves the key works by
    // wrapping and unwrapping a fresh random value under it.
    const value = randomBytes(32).toString("base64");
    const encrypted = await call(
      req,
      "POST",
      "/kms/encrypt",
      {},
      {
        key_id: keyId,
        plaintext: value,
        encryption_context: STATUS_CONTEXT,
      },
    );
    if (encrypted.status !== 200) {
      answer["encryption-error"] = errorMessageOf(encrypted);
    } else {
      const decrypted = await call(
        req,
        "POST",
        "/kms/decrypt",
        {},
        {
          ciphertext_blob: jsonOf(encrypted).ciphertext_blob,
          encryption_context: STATUS_CONTEXT,
        },
      );
      if (decrypted.status !== 200) {
        answer["decryption-error"] = errorMessageOf(decrypted);
      } else if (jsonOf(decrypted).plaintext_key !== value) {
        answer["decryption-error"] = "the decrypted test value differs from the encrypted one";
      }
    }
    return jsonAnswer(answer, described.rpc);
  }

  async function madminV14Status(req: RestRequest): Promise<RestResponse> {
    const status = await rest.handle(req);
    if (status.status !== 200) return status;
    const json = jsonOf(status);
    // madmin v1.4's KMSStatus reads these three; the documented fields stay first.
    return jsonAnswer(
      {
        ...json,
        name: "kms-gateway",
        "default-key-id": json.default_key_id ?? "",
        endpoints: { [endpointOf(req)]: json.healthy === true ? "online" : "offline" },
      },
      status.rpc,
    );
  }

  async function minioStatus(req: RestRequest): Promise<RestResponse> {
    const status = await call(req, "GET", "/kms/status");
    if (status.status !== 200) return status;
    const json = jsonOf(status);
    const healthy = json.healthy === true;
    return jsonAnswer(
      {
        name: "kms-gateway",
        "default-key-id": json.default_key_id ?? "",
        endpoints: { [endpointOf(req)]: healthy ? "online" : "offline" },
        // madmin's KMSState has no JSON tags, so Go reads these exact names.
        state: {
          Version: options.version,
          KeyStoreReachable: healthy,
          KeystoreAvailable: healthy,
          OS: process.platform,
          Arch: process.arch,
        },
      },
      status.rpc,
    );
  }

  async function minioVersion(): Promise<RestResponse> {
    return jsonAnswer({ version: options.version });
  }

  async function minioKeyList(req: RestRequest, query: URLSearchParams): Promise<RestResponse> {
    const matches = globMatcher(query.get("pattern") ?? "");
    const listed: { name: string; createdAt: unknown; createdBy: string }[] = [];
    let marker: string | undefined;
    let rpc: string | undefined;
    // madmin asks for the whole list at once; it is walked a page at a time and
    // bounded by MAX_LISTED keys looked at, as every list here is bounded.
    for (let seen = 0; seen < MAX_LISTED; ) {
      const page = await call(req, "GET", "/kms/keys", {
        limit: String(Math.min(LIST_PAGE, MAX_LISTED - seen)),
        ...(marker === undefined ? {} : { marker }),
      });
      if (page.status !== 200) return page;
      rpc = page.rpc;
      const json = jsonOf(page);
      const keys = Array.isArray(json.keys) ? (json.keys as Record<string, unknown>[]) : [];
      seen += keys.length;
      for (const key of keys) {
        if (typeof key.key_id === "string" && matches(key.key_id)) {
          listed.push({ name: key.key_id, createdAt: key.created_at ?? null, createdBy: "" });
        }
      }
      if (json.truncated !== true || typeof json.next_marker !== "string" || keys.length === 0) {
        break;
      }
      marker = json.next_marker;
    }
    return jsonAnswer(listed, rpc);
  }

  return {
    handles(rawPath) {
      return rawPath.startsWith(`${MINIO_KMS}/`) || rest.handles(rawPath);
    },
    async handle(req) {
      const handler = routes.get(`${req.method} ${req.rawPath}`);
      if (handler !== undefined) {
        return handler(req, parseQuery(req.rawQuery));
      }
      if (req.rawPath.startsWith(`${MINIO_KMS}/`)) {
        return restErrorResponse(
          new ConnectError(
            `no such API: ${req.method.slice(0, 16)} ${req.rawPath.slice(0, 200)}`,
            Code.NotFound,
          ),
        );
      }
      return rest.handle(req);
    },
  };
}

/** delegate readdresses a request (same body, no query), keeping its lazy getters lazy. */
function delegate(req: RestRequest, rawPath: string): RestRequest {
  return {
    method: req.method,
    rawPath,
    rawQuery: "",
    body: req.body,
    contextValues: req.contextValues,
    get headers() {
      return req.headers;
    },
    get signal() {
      return req.signal;
    },
  };
}

/**
 * legacyKeyId is the key id of a legacy request: the first non-empty of
 * `keyId`, `key-id` and `key`, in that order, as RustFS reads them.
 */
function legacyKeyId(query: URLSearchParams): string | undefined {
  for (const name of ["keyId", "key-id", "key"]) {
    const value = query.get(name);
    if (value !== null && value !== "") return value;
  }
  return undefined;
}

/** parseQuery decodes a raw query (`+` as space); a malformed escape leaves the pair out. */
function parseQuery(rawQuery: string): URLSearchParams {
  const query = new URLSearchParams();
  for (const pair of rawQuery.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    try {
      query.append(
        decodeQueryComponent(eq < 0 ? pair : pair.slice(0, eq)),
        eq < 0 ? "" : decodeQueryComponent(pair.slice(eq + 1)),
      );
    } catch {
      // A pair that does not decode cannot name a key; it is ignored like any unknown one.
    }
  }
  return query;
}

/**
 * globMatcher matches key ids against a KES-style pattern: `*` any run of
 * characters, `?` one; an empty pattern matches everything.
 */
export function globMatcher(pattern: string): (id: string) => boolean {
  if (pattern === "" || pattern === "*") return () => true;
  const source = [...pattern.slice(0, 256)]
    .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[\\^$.|+()[\]{}]/g, "\\$&")))
    .join("");
  const regex = new RegExp(`^${source}$`, "s");
  return (id) => regex.test(id);
}

function endpointOf(req: RestRequest): string {
  const host = req.headers.get("host") ?? req.headers.get(":authority");
  return host !== null && /^[A-Za-z0-9.:[\]-]{1,255}$/.test(host) ? host : "kms-gateway";
}

function jsonAnswer(body: unknown, rpc?: string): RestResponse {
  return {
    status: 200,
    headers: { "content-type": "application/json", "cache-control": "no-store" },
    body: JSON.stringify(body),
    ...(rpc === undefined ? {} : { rpc }),
  };
}

function invalid(message: string): RestResponse {
  return restErrorResponse(new ConnectError(message, Code.InvalidArgument));
}

/** jsonOf reads a transcoder answer's JSON object (always an object on a 200). */
function jsonOf(answer: RestResponse): Record<string, unknown> {
  const parsed = parseJson(answer.body);
  return isObject(parsed) ? parsed : {};
}

/** errorMessageOf is the `message` of a REST error answer (already safe to show). */
function errorMessageOf(answer: RestResponse): string {
  const message = jsonOf(answer).message;
  return typeof message === "string" ? message : `failed with HTTP ${answer.status}`;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
