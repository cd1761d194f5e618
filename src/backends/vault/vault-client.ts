import nodeVault from "node-vault";
import { backoffDelayMs } from "./backoff.js";
import { createCircuitBreaker } from "./circuit-breaker.js";
import { createConcurrencyLimit } from "./concurrency-limit.js";
import { classifyVaultFailure, VaultRequestError } from "./vault-request-error.js";

/** VaultAuth is how the client authenticates: a token, or an AppRole it logs in with. */
export type VaultAuth =
  | { token: string }
  | { approle: { roleId: string; secretId: string; mount: string } };

/** VaultClientOptions configure createVaultClient; the backend fills them from its config. */
export interface VaultClientOptions {
  address: string;
  auth: VaultAuth;
  namespace: string | null;
  /** PEM bytes of the CA that signs Vault's certificate (from `ca_cert_path`), or null. */
  caCert: Buffer | null;
  /** Skip TLS verification: development only; the backend warns when it is on. */
  skipTlsVerify: boolean;
  /** Per-attempt timeout (`timeout_seconds`). */
  timeoutMs: number;
  /** Retries of an idempotent call after the first attempt (`retry_attempts`). */
  retryAttempts: number;
  /** Calls in flight at once, and calls allowed to wait for a slot. */
  maxInFlight?: number;
  maxWaiting?: number;
  /** Consecutive failures that open the circuit, and how long it stays open. */
  breakerThreshold?: number;
  breakerOpenMs?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  random?: () => number;
  now?: () => number;
  /** Where the client reports its retries and circuit-breaker changes (metrics); never a path or secret. */
  events?: VaultClientEvents;
  /** Where the client reports logins, renewals and failures; never a secret. */
  log?: (
    level: "info" | "warn" | "error",
    message: string,
    fields?: Record<string, unknown>,
  ) => void;
}

/**
 * VaultClientEvents receive what a dashboard wants to see of the client: each
 * retried call, by verb only (`read`, `list`, `write`, `delete`, `login`: never a
 * path, which holds key ids), and each change of the circuit breaker's state.
 */
export interface VaultClientEvents {
  retry(verb: string): void;
  circuitState(state: "closed" | "half_open" | "open"): void;
}

/** VaultResponse is Vault's answer: its `data` (null when none) and `auth` block. */
export interface VaultResponse {
  data: Record<string, unknown> | null;
  auth: Record<string, unknown> | null;
}

/** VaultHealth is what sys/health says. */
export interface VaultHealth {
  initialized: boolean;
  sealed: boolean;
  standby: boolean;
}

/**
 * VaultClient is the backend's only way to Vault: generic reads, writes, lists
 * and deletes on paths the backend builds from its configured mounts. Every call
 * rejects only with VaultRequestError. Reads, lists and deletes are retried on
 * `unavailable` and `timeout` with jittered exponential backoff; a write only
 * when the caller says it is safe to repeat (`retry: true`, e.g. a KV v2 write
 * with check-and-set, whose repeat fails as a conflict instead of applying twice).
 */
export interface VaultClient {
  /**
   * read returns the entry at `path`, or null when Vault answers 404 with an
   * empty error list (nothing there); a 404 with errors (no such mount) rejects.
   */
  read(path: string): Promise<VaultResponse | null>;
  /** list returns the names below `path` (folders end in `/`); [] on an empty-errors 404, as read. */
  list(path: string): Promise<string[]>;
  write(
    path: string,
    body: Record<string, unknown>,
    options?: { retry?: boolean },
  ): Promise<VaultResponse | null>;
  delete(path: string): Promise<void>;
  /** health reads sys/health (no token needed; a sealed or standby Vault is not an error here). */
  health(): Promise<VaultHealth>;
  /** login checks a token (lookup-self) or logs in with the AppRole, and schedules renewal. */
  login(): Promise<void>;
  /** close stops token renewal; calls already made still settle. */
  close(): void;
}

const RENEW_AT = 2 / 3;

/**
 * isEmptyNotFound tells Vault's "nothing here" (404 with `"errors": []`) from a
 * 404 that names a fault, such as `no handler for route` for a missing mount.
 */
function isEmptyNotFound(failure: VaultRequestError): boolean {
  return failure.kind === "not-found" && failure.vaultErrors.length === 0;
}

/** createVaultClient builds a VaultClient over node-vault; call login() before use. */
export function createVaultClient(options: VaultClientOptions): VaultClient {
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => {});
  const vault = nodeVault({
    endpoint: options.address,
    apiVersion: "v1",
    namespace: options.namespace ?? undefined,
    // Node's HTTP parser cannot read LIST; Vault lists on GET ?list=1 as well.
    noCustomHTTPVerbs: true,
    token: "token" in options.auth ? options.auth.token : undefined,
    // node-vault's own debug output prints request bodies (tokens, plaintexts): never.
    debug: () => {},
    requestOptions: {
      timeout: options.timeoutMs,
      ...(options.caCert ? { ca: options.caCert } : {}),
      // Always given: node-vault would otherwise fall back to VAULT_SKIP_VERIFY.
      strictSSL: !options.skipTlsVerify,
    },
  });
  // node-vault falls back to VAULT_TOKEN, VAULT_NAMESPACE and VAULT_PREFIX from the
  // environment for what is not given: the gateway uses its configuration alone.
  vault.token = "token" in options.auth ? options.auth.token : "";
  Object.assign(vault, { namespace: options.namespace ?? "", pathPrefix: "" });
  const breaker = createCircuitBreaker({
    failureThreshold: options.breakerThreshold ?? 5,
    openMs: options.breakerOpenMs ?? 5_000,
    now,
  });
  const limit = createConcurrencyLimit(options.maxInFlight ?? 32, options.maxWaiting ?? 512);
  const backoff = {
    baseMs: options.backoffBaseMs ?? 100,
    maxMs: options.backoffMaxMs ?? 2_000,
    random: options.random,
  };
  let renewTimer: NodeJS.Timeout | null = null;
  let closed = false;
  let relogin: Promise<void> | null = null;

  let reportedState: "closed" | "half_open" | "open" = "closed";
  options.events?.circuitState(reportedState);
  /** reportState tells the events about a change of the breaker's state. */
  function reportState(): void {
    if (options.events === undefined) return;
    const state = breaker.state() === "half-open" ? "half_open" : breaker.state();
    if (state === reportedState) return;
    reportedState = state as "closed" | "half_open" | "open";
    options.events.circuitState(reportedState);
  }

  /** once sends one attempt through the breaker. */
  async function once<T>(operation: string, send: () => Promise<T>): Promise<T> {
    if (!breaker.allow()) {
      reportState();
      throw new VaultRequestError("circuit-open", operation, null);
    }
    try {
      const value = await send();
      breaker.success();
      reportState();
      return value;
    } catch (error) {
      const failure = classifyVaultFailure(operation, error);
      // Only an absent or failing Vault counts against the circuit, not a refusal.
      if (failure.retryable) breaker.failure();
      else breaker.success();
      reportState();
      throw failure;
    }
  }

  /** call runs `send` under the concurrency bound, retrying when allowed and useful. */
  async function call<T>(operation: string, retry: boolean, send: () => Promise<T>): Promise<T> {
    const slot = await limit.run(async () => {
      let attempt = 0;
      let loggedInAgain = false;
      for (;;) {
        try {
          return await once(operation, send);
        } catch (error) {
          const failure = error as VaultRequestError;
          // An AppRole token may have expired between renewals: log in once more.
          if (failure.kind === "denied" && "approle" in options.auth && !loggedInAgain) {
            loggedInAgain = true;
            await loginAgain();
            continue;
          }
          if (!retry || !failure.retryable || attempt >= options.retryAttempts) throw failure;
          attempt += 1;
          options.events?.retry(operation.slice(0, operation.indexOf(" ")));
          await new Promise((resolve) => setTimeout(resolve, backoffDelayMs(attempt, backoff)));
        }
      }
    });
    if (slot === null) throw new VaultRequestError("overloaded", operation, null);
    return slot.value;
  }

  function toResponse(body: unknown): VaultResponse | null {
    if (body === undefined || body === null || body === "") return null;
    const b = body as { data?: unknown; auth?: unknown };
    return {
      data: (b.data as Record<string, unknown> | null | undefined) ?? null,
      auth: (b.auth as Record<string, unknown> | null | undefined) ?? null,
    };
  }

  function scheduleRenewal(ttlSeconds: number, renewable: boolean): void {
    if (renewTimer) clearTimeout(renewTimer);
    renewTimer = null;
    if (closed || ttlSeconds <= 0) return;
    const renew = async () => {
      try {
        // renewable tokens are renewed; others (and failed renewals) get a fresh AppRole login.
        if (!renewable) throw new Error("not renewable");
        const res = toResponse(
          await once("renew token", () => vault.write("auth/token/renew-self", {})),
        );
        const lease = Number(res?.auth?.lease_duration ?? 0);
        log("info", "renewed the Vault token", { ttlSeconds: lease });
        scheduleRenewal(lease, res?.auth?.renewable === true);
      } catch (error) {
        if ("approle" in options.auth) {
          await loginAgain().catch(() => {});
        } else {
          log("warn", "could not renew the Vault token", { error: (error as Error).message });
        }
      }
    };
    renewTimer = setTimeout(() => void renew(), Math.max(1_000, ttlSeconds * 1_000 * RENEW_AT));
    renewTimer.unref();
  }

  async function approleLogin(): Promise<void> {
    if (!("approle" in options.auth)) return;
    const { roleId, secretId, mount } = options.auth.approle;
    // The login itself carries no token (an expired one would only be noise).
    vault.token = "";
    const res = toResponse(
      await once(`login auth/${mount}`, () =>
        vault.write(`auth/${mount}/login`, { role_id: roleId, secret_id: secretId }),
      ),
    );
    const token = res?.auth?.client_token;
    if (typeof token !== "string" || token === "") {
      throw new VaultRequestError("rejected", `login auth/${mount}`, 200, [
        "no client_token in the login answer",
      ]);
    }
    vault.token = token;
    log("info", "logged in to Vault with AppRole", {
      mount,
      ttlSeconds: Number(res?.auth?.lease_duration ?? 0),
    });
    scheduleRenewal(Number(res?.auth?.lease_duration ?? 0), res?.auth?.renewable === true);
  }

  /** loginAgain runs one AppRole login at a time; concurrent callers share it. */
  function loginAgain(): Promise<void> {
    relogin ??= approleLogin().finally(() => {
      relogin = null;
    });
    return relogin;
  }

  return {
    read: (path) =>
      call(`read ${path}`, true, async () => {
        try {
          return toResponse(await vault.read(path));
        } catch (error) {
          if (isEmptyNotFound(classifyVaultFailure(`read ${path}`, error))) return null;
          throw error;
        }
      }),
    list: (path) =>
      call(`list ${path}`, true, async () => {
        try {
          const keys = toResponse(await vault.list(path))?.data?.keys;
          return Array.isArray(keys) ? keys.filter((k): k is string => typeof k === "string") : [];
        } catch (error) {
          if (isEmptyNotFound(classifyVaultFailure(`list ${path}`, error))) return [];
          throw error;
        }
      }),
    write: (path, body, writeOptions) =>
      call(`write ${path}`, writeOptions?.retry === true, async () =>
        toResponse(await vault.write(path, body)),
      ),
    delete: (path) =>
      call(`delete ${path}`, true, async () => {
        await vault.delete(path);
      }),
    health: () =>
      call("read sys/health", true, async () => {
        // node-vault resolves sys/health's non-200 answers (sealed 503, standby 429) with the body.
        const body = (await vault.read("sys/health")) as Partial<VaultHealth> | null;
        if (!body || typeof body.sealed !== "boolean") {
          throw new VaultRequestError("unavailable", "read sys/health", null);
        }
        return {
          initialized: body.initialized === true,
          sealed: body.sealed,
          standby: body.standby === true,
        };
      }),
    async login() {
      if ("approle" in options.auth) {
        await call(`login auth/${options.auth.approle.mount}`, true, approleLogin);
        return;
      }
      const res = await call("read auth/token/lookup-self", true, async () =>
        toResponse(await vault.read("auth/token/lookup-self")),
      );
      scheduleRenewal(Number(res?.data?.ttl ?? 0), res?.data?.renewable === true);
    },
    close() {
      closed = true;
      if (renewTimer) clearTimeout(renewTimer);
      renewTimer = null;
    },
  };
}
