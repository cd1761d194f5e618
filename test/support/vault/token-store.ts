import { randomBytes, timingSafeEqual } from "node:crypto";
import { badRequest, permissionDenied } from "./vault-error.js";
import { stringParam, type VaultReply } from "./vault-request.js";

// Tokens and AppRole logins, as Vault's API docs describe them
// (website/content/api-docs/auth/token.mdx: lookup-self, renew-self;
// website/content/api-docs/auth/approle.mdx: login).

interface TokenEntry {
  id: string;
  accessor: string;
  policies: string[];
  /** Seconds; 0 for a root token, which never expires. */
  ttlSeconds: number;
  createdAt: number;
  expiresAt: number | null;
  renewable: boolean;
  /** Path prefixes (below /v1/) this token may use; null for all. */
  pathPrefixes: string[] | null;
}

/** TokenOptions shape a token the test creates. */
export interface TokenOptions {
  ttlSeconds?: number;
  renewable?: boolean;
  policies?: string[];
  /** Restrict the token to paths starting with one of these (e.g. `transit/`); others get 403. */
  pathPrefixes?: string[];
}

/** AppRole is a role the test registers: its ids and the tokens its logins get. */
export interface AppRole {
  roleId: string;
  secretId: string;
  mount?: string;
  token?: TokenOptions;
}

/** TokenStore holds the server's tokens and AppRoles. */
export interface TokenStore {
  readonly rootToken: string;
  create(options?: TokenOptions): string;
  /** expire makes a token invalid now, as if its TTL had run out. */
  expire(token: string): void;
  addAppRole(role: AppRole): void;
  /** check returns the token's entry, or throws 403 when it cannot use `path`. */
  check(token: string | undefined, path: string): TokenEntry;
  lookupSelf(entry: TokenEntry): VaultReply;
  renewSelf(entry: TokenEntry, body: Record<string, unknown>): VaultReply;
  /** appRoleLogin serves POST auth/<mount>/login. */
  appRoleLogin(mount: string, body: Record<string, unknown>): VaultReply;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** createTokenStore returns a store holding only a root token. */
export function createTokenStore(now: () => number = Date.now): TokenStore {
  const tokens = new Map<string, TokenEntry>();
  const roles: AppRole[] = [];

  function add(options: TokenOptions, root = false): TokenEntry {
    const ttlSeconds = root ? 0 : (options.ttlSeconds ?? 3600);
    const entry: TokenEntry = {
      id: `hvs.${randomBytes(18).toString("base64url")}`,
      accessor: randomBytes(12).toString("base64url"),
      policies: root ? ["root"] : (options.policies ?? ["default"]),
      ttlSeconds,
      createdAt: now(),
      expiresAt: root ? null : now() + ttlSeconds * 1000,
      renewable: root ? false : (options.renewable ?? true),
      pathPrefixes: options.pathPrefixes ?? null,
    };
    tokens.set(entry.id, entry);
    return entry;
  }
  const root = add({}, true);

  function authBlock(entry: TokenEntry): Record<string, unknown> {
    return {
      client_token: entry.id,
      accessor: entry.accessor,
      policies: entry.policies,
      token_policies: entry.policies,
      lease_duration: entry.ttlSeconds,
      renewable: entry.renewable,
    };
  }

  return {
    rootToken: root.id,
    create: (options = {}) => add(options).id,
    expire(token) {
      const entry = tokens.get(token);
      if (entry) entry.expiresAt = now() - 1;
    },
    addAppRole(role) {
      roles.push(role);
    },
    check(token, path) {
      const entry = token === undefined ? undefined : tokens.get(token);
      if (!entry || (entry.expiresAt !== null && entry.expiresAt <= now())) {
        throw permissionDenied();
      }
      const selfPath = path === "auth/token/lookup-self" || path === "auth/token/renew-self";
      if (!selfPath && entry.pathPrefixes && !entry.pathPrefixes.some((p) => path.startsWith(p))) {
        throw permissionDenied();
      }
      return entry;
    },
    lookupSelf(entry) {
      const ttl =
        entry.expiresAt === null ? 0 : Math.max(0, Math.floor((entry.expiresAt - now()) / 1000));
      return {
        data: {
          accessor: entry.accessor,
          creation_time: Math.floor(entry.createdAt / 1000),
          creation_ttl: entry.ttlSeconds,
          display_name: entry.expiresAt === null ? "root" : "token",
          expire_time: entry.expiresAt === null ? null : new Date(entry.expiresAt).toISOString(),
          explicit_max_ttl: 0,
          id: entry.id,
          policies: entry.policies,
          renewable: entry.renewable,
          ttl,
          type: "service",
        },
      };
    },
    renewSelf(entry, body) {
      if (!entry.renewable) throw badRequest("lease is not renewable");
      const increment = typeof body.increment === "number" ? body.increment : entry.ttlSeconds;
      entry.ttlSeconds = increment;
      entry.expiresAt = now() + increment * 1000;
      return { auth: authBlock(entry) };
    },
    appRoleLogin(mount, body) {
      const roleId = stringParam(body, "role_id");
      if (!roleId) throw badRequest("missing role_id");
      const secretId = stringParam(body, "secret_id") ?? "";
      const role = roles.find(
        (r) =>
          (r.mount ?? "approle") === mount &&
          sameSecret(r.roleId, roleId) &&
          sameSecret(r.secretId, secretId),
      );
      if (!role) throw badRequest("invalid role or secret ID");
      return { auth: authBlock(add(role.token ?? {})) };
    },
  };
}
