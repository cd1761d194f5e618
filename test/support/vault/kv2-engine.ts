import { badRequest, notFound, unsupportedPath } from "./vault-error.js";
import { boolParam, intParam, type VaultReply, type VaultRequest } from "./vault-request.js";

// A KV secrets engine in versioned mode (version 2), as Vault's API docs describe
// it (website/content/api-docs/secret/kv/kv-v2.mdx): data/, metadata/, delete/,
// undelete/, destroy/ and config, with check-and-set and version pruning.

interface SecretVersion {
  data: Record<string, unknown> | null;
  createdTime: string;
  deletionTime: string;
  destroyed: boolean;
}

interface Secret {
  versions: Map<number, SecretVersion>;
  currentVersion: number;
  createdTime: string;
  updatedTime: string;
  maxVersions: number;
  casRequired: boolean;
  customMetadata: Record<string, string> | null;
}

/** Kv2Engine is one mount of KV v2; `handle` serves a request below the mount. */
export interface Kv2Engine {
  handle(req: VaultRequest): VaultReply;
  /** paths lists every secret path, for tests that inspect what the server holds. */
  paths(): string[];
}

const DEFAULT_MAX_VERSIONS = 10;

/** createKv2Engine returns an empty KV v2 mount. */
export function createKv2Engine(): Kv2Engine {
  const secrets = new Map<string, Secret>();
  const config = { maxVersions: 0, casRequired: false };

  function versionMetadata(secret: Secret, version: number): Record<string, unknown> {
    const v = secret.versions.get(version) as SecretVersion;
    return {
      created_time: v.createdTime,
      custom_metadata: secret.customMetadata,
      deletion_time: v.deletionTime,
      destroyed: v.destroyed,
      version,
    };
  }

  function metadata(secret: Secret): Record<string, unknown> {
    const versions: Record<string, unknown> = {};
    for (const [n, v] of secret.versions) {
      versions[String(n)] = {
        created_time: v.createdTime,
        deletion_time: v.deletionTime,
        destroyed: v.destroyed,
      };
    }
    return {
      cas_required: secret.casRequired,
      created_time: secret.createdTime,
      current_version: secret.currentVersion,
      custom_metadata: secret.customMetadata,
      delete_version_after: "0s",
      max_versions: secret.maxVersions,
      oldest_version: secret.versions.size > 0 ? Math.min(...secret.versions.keys()) : 0,
      updated_time: secret.updatedTime,
      versions,
    };
  }

  function newSecret(now: string): Secret {
    return {
      versions: new Map(),
      currentVersion: 0,
      createdTime: now,
      updatedTime: now,
      maxVersions: 0,
      casRequired: false,
      customMetadata: null,
    };
  }

  /** "Create/Update Secret": a new version, subject to check-and-set. */
  function write(path: string, body: Record<string, unknown>): VaultReply {
    const data = body.data;
    if (data === null || typeof data !== "object" || Array.isArray(data)) {
      throw badRequest("no data provided");
    }
    const options = (body.options ?? {}) as Record<string, unknown>;
    const cas = intParam(options, "cas");
    const existing = secrets.get(path);
    if ((config.casRequired || existing?.casRequired) && cas === undefined) {
      throw badRequest("check-and-set parameter required for this call");
    }
    if (cas !== undefined && cas !== (existing?.currentVersion ?? 0)) {
      throw badRequest("check-and-set parameter did not match the current version");
    }
    const now = new Date().toISOString();
    const secret = existing ?? newSecret(now);
    secret.currentVersion += 1;
    secret.updatedTime = now;
    secret.versions.set(secret.currentVersion, {
      data: structuredClone(data as Record<string, unknown>),
      createdTime: now,
      deletionTime: "",
      destroyed: false,
    });
    const keep = secret.maxVersions || config.maxVersions || DEFAULT_MAX_VERSIONS;
    for (const n of [...secret.versions.keys()].sort((a, b) => a - b)) {
      if (secret.versions.size <= keep) break;
      secret.versions.delete(n);
    }
    secrets.set(path, secret);
    return { data: versionMetadata(secret, secret.currentVersion) };
  }

  /** "Read Secret Version": 404 for none; a deleted or destroyed version is 404 with its metadata. */
  function read(path: string, query: URLSearchParams): VaultReply {
    const secret = secrets.get(path);
    if (!secret) throw notFound();
    const asked = Number(query.get("version") ?? 0);
    const version = asked > 0 ? asked : secret.currentVersion;
    const v = secret.versions.get(version);
    if (!v) throw notFound();
    if (v.deletionTime !== "" || v.destroyed) {
      return { status: 404, data: { data: null, metadata: versionMetadata(secret, version) } };
    }
    return { data: { data: structuredClone(v.data), metadata: versionMetadata(secret, version) } };
  }

  /** "List Secrets": direct children of `prefix`, folders suffixed with `/`. */
  function list(prefix: string): VaultReply {
    const base = prefix === "" || prefix.endsWith("/") ? prefix : `${prefix}/`;
    const names = new Set<string>();
    for (const path of secrets.keys()) {
      if (!path.startsWith(base)) continue;
      const rest = path.slice(base.length);
      const slash = rest.indexOf("/");
      names.add(slash === -1 ? rest : rest.slice(0, slash + 1));
    }
    if (names.size === 0) throw notFound();
    return { data: { keys: [...names].sort() } };
  }

  function versionsParam(body: Record<string, unknown>): number[] {
    const versions = body.versions;
    if (!Array.isArray(versions) || versions.length === 0 || !versions.every(Number.isInteger)) {
      throw badRequest("no version number provided");
    }
    return versions as number[];
  }

  function handle(req: VaultRequest): VaultReply {
    const { method, body } = req;
    const slash = req.path.indexOf("/");
    const head = slash === -1 ? req.path : req.path.slice(0, slash);
    const path = slash === -1 ? "" : req.path.slice(slash + 1);
    if (head === "config" && path === "") {
      if (method === "GET") {
        return {
          data: {
            cas_required: config.casRequired,
            delete_version_after: "0s",
            max_versions: config.maxVersions,
          },
        };
      }
      config.casRequired = boolParam(body, "cas_required") ?? config.casRequired;
      config.maxVersions = intParam(body, "max_versions") ?? config.maxVersions;
      return null;
    }
    if (head === "metadata" && req.list) return list(path);
    if (path === "") throw unsupportedPath(req.path);
    if (head === "data") {
      if (method === "GET") return read(path, req.query);
      if (method === "POST" || method === "PUT") return write(path, body);
      if (method === "DELETE") {
        const secret = secrets.get(path);
        const v = secret?.versions.get(secret.currentVersion);
        if (v && v.deletionTime === "") v.deletionTime = new Date().toISOString();
        return null;
      }
    }
    if (head === "metadata") {
      const secret = secrets.get(path);
      if (method === "GET") {
        if (!secret) throw notFound();
        return { data: metadata(secret) };
      }
      if (method === "DELETE") {
        secrets.delete(path);
        return null;
      }
      if (method === "POST" || method === "PUT") {
        const target = secret ?? newSecret(new Date().toISOString());
        target.maxVersions = intParam(body, "max_versions") ?? target.maxVersions;
        target.casRequired = boolParam(body, "cas_required") ?? target.casRequired;
        if (body.custom_metadata !== undefined) {
          target.customMetadata = body.custom_metadata as Record<string, string>;
        }
        secrets.set(path, target);
        return null;
      }
    }
    if ((head === "delete" || head === "undelete" || head === "destroy") && method !== "GET") {
      const secret = secrets.get(path);
      for (const n of versionsParam(body)) {
        const v = secret?.versions.get(n);
        if (!v) continue;
        if (head === "delete") v.deletionTime = new Date().toISOString();
        if (head === "undelete" && !v.destroyed) v.deletionTime = "";
        if (head === "destroy") {
          v.destroyed = true;
          v.data = null;
        }
      }
      return null;
    }
    throw unsupportedPath(req.path);
  }

  return { handle, paths: () => [...secrets.keys()].sort() };
}
