/**
 * VaultFailureKind is why a Vault call failed, as the backend must react to it:
 * - `denied`: Vault answered 403 (bad, expired or under-privileged token);
 * - `not-found`: 404 (a read or list of nothing; the client turns most into null or []);
 * - `conflict`: a KV v2 check-and-set mismatch (400 naming check-and-set);
 * - `rejected`: any other 4xx: Vault refused the request as made (not retried);
 * - `unavailable`: no answer (refused, reset, DNS), a 5xx, a 429 or a sealed Vault;
 * - `timeout`: no answer within the per-attempt timeout;
 * - `circuit-open`: not sent, because Vault has been failing (see circuit-breaker.ts);
 * - `overloaded`: not sent, because too many Vault calls were already waiting.
 */
export type VaultFailureKind =
  | "denied"
  | "not-found"
  | "conflict"
  | "rejected"
  | "unavailable"
  | "timeout"
  | "circuit-open"
  | "overloaded";

/**
 * VaultRequestError is the one error the Vault client rejects with. Its message
 * names the operation and the kind of failure only: never a token, a secret, a
 * request body, or Vault's response body. Vault's own error strings are kept in
 * `vaultErrors` for the server's log (Vault's messages do not carry secrets).
 */
export class VaultRequestError extends Error {
  override readonly name = "VaultRequestError";

  constructor(
    readonly kind: VaultFailureKind,
    /** What was attempted, e.g. `read secret/data/…` (a path, never a body). */
    readonly operation: string,
    readonly status: number | null,
    readonly vaultErrors: readonly string[] = [],
    options?: { cause?: unknown },
  ) {
    super(`Vault ${operation}: ${describe(kind, status)}`, options);
  }

  /** retryable says whether trying again later may succeed. */
  get retryable(): boolean {
    return this.kind === "unavailable" || this.kind === "timeout";
  }
}

function describe(kind: VaultFailureKind, status: number | null): string {
  switch (kind) {
    case "denied":
      return "permission denied (403)";
    case "not-found":
      return "not found (404)";
    case "conflict":
      return "check-and-set conflict: the entry changed since it was read";
    case "rejected":
      return `request refused (${status})`;
    case "unavailable":
      return status === null ? "Vault is unreachable" : `Vault is unavailable (${status})`;
    case "timeout":
      return "no answer within the timeout";
    case "circuit-open":
      return "Vault has been failing; not retried until it recovers";
    case "overloaded":
      return "too many Vault calls waiting";
  }
}

/** CAS_MISMATCH is the start of KV v2's check-and-set refusal. */
const CAS_MISMATCH = "check-and-set parameter";

/**
 * classifyVaultFailure turns what node-vault rejected with (an HTTP answer with a
 * status, or a network error from axios) into a VaultRequestError.
 */
export function classifyVaultFailure(operation: string, error: unknown): VaultRequestError {
  if (error instanceof VaultRequestError) return error;
  const response = (error as { response?: { statusCode?: unknown; body?: unknown } } | null)
    ?.response;
  const status = typeof response?.statusCode === "number" ? response.statusCode : null;
  if (status !== null) {
    const errors = vaultErrorStrings(response?.body);
    const kind: VaultFailureKind =
      status === 403
        ? "denied"
        : status === 404
          ? "not-found"
          : status === 429 || status >= 500
            ? "unavailable"
            : status === 400 && errors.some((e) => e.startsWith(CAS_MISMATCH))
              ? "conflict"
              : "rejected";
    return new VaultRequestError(kind, operation, status, errors);
  }
  const code = (error as { code?: unknown } | null)?.code;
  const timedOut = code === "ECONNABORTED" || code === "ETIMEDOUT";
  // The cause is kept for the log: a network error names the host and port only.
  return new VaultRequestError(timedOut ? "timeout" : "unavailable", operation, null, [], {
    cause: typeof code === "string" ? new Error(code) : undefined,
  });
}

function vaultErrorStrings(body: unknown): string[] {
  const errors = (body as { errors?: unknown } | null)?.errors;
  return Array.isArray(errors)
    ? errors.filter((e): e is string => typeof e === "string").slice(0, 4)
    : [];
}
