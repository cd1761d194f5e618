/**
 * VaultError is an answer in Vault's error shape: an HTTP status and the body
 * `{"errors": [...]}` (Vault's API docs, "HTTP API" → "Error Response"). An
 * empty list is what Vault sends with a 404 for a path that holds nothing.
 */
export class VaultError extends Error {
  constructor(
    readonly status: number,
    readonly errors: string[],
  ) {
    super(errors.join("; ") || `HTTP ${status}`);
  }
}

/** permissionDenied is Vault's 403 for a missing, unknown, expired or under-privileged token. */
export function permissionDenied(): VaultError {
  return new VaultError(403, ["permission denied"]);
}

/** notFound is Vault's 404 with an empty error list (a read or list of nothing). */
export function notFound(): VaultError {
  return new VaultError(404, []);
}

/** badRequest is a 400 with one message, as Vault answers invalid parameters. */
export function badRequest(message: string): VaultError {
  return new VaultError(400, [message]);
}

/** unsupportedPath is Vault's 404 for a path no engine handles. */
export function unsupportedPath(path: string): VaultError {
  return new VaultError(404, [`no handler for route "${path}". route entry not found.`]);
}
