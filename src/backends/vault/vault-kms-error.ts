import { KmsError } from "../../engine/errors.js";
import { VaultRequestError } from "./vault-request-error.js";

/**
 * vaultKmsError maps a failed Vault call to the engine's errors (contract §4):
 * Vault unreachable, timing out, failing fast or overloaded → BACKEND_UNAVAILABLE
 * (503); a 403 → BACKEND_ERROR "Vault denied the request" (500); anything else →
 * BACKEND_ERROR. The message says what failed in the gateway's words and never
 * carries Vault's response body (kept, with the path, in `cause` for the log).
 */
export function vaultKmsError(error: unknown): KmsError {
  if (error instanceof KmsError) return error;
  if (!(error instanceof VaultRequestError)) {
    return new KmsError("BACKEND_ERROR", "Vault backend failure", { cause: error });
  }
  switch (error.kind) {
    case "unavailable":
      return unavailable(
        error.status === null
          ? "Vault is unreachable"
          : `Vault is unavailable (HTTP ${error.status})`,
        error,
      );
    case "timeout":
      return unavailable("Vault did not answer within timeout_seconds", error);
    case "circuit-open":
      return unavailable(
        "Vault has been failing: calls fail fast until a probe finds it back",
        error,
      );
    case "overloaded":
      return unavailable("too many Vault calls are waiting; try again shortly", error);
    case "denied":
      return new KmsError(
        "BACKEND_ERROR",
        "Vault denied the request: check the token's or AppRole's policy",
        { cause: error },
      );
    default:
      return new KmsError(
        "BACKEND_ERROR",
        `Vault refused the request${error.status === null ? "" : ` (HTTP ${error.status})`}`,
        { cause: error },
      );
  }
}

function unavailable(message: string, cause: VaultRequestError): KmsError {
  return new KmsError("BACKEND_UNAVAILABLE", message, { cause });
}

/** vaultCall runs a client call and maps its failure to the KmsError callers see (contract §4). */
export async function vaultCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw vaultKmsError(error);
  }
}

/**
 * vaultAttempt runs a client call and returns its VaultRequestError instead of
 * throwing it, for callers that react to the kind of failure (a lost
 * check-and-set, a 404); any other failure is mapped as by vaultCall.
 */
export async function vaultAttempt<T>(fn: () => Promise<T>): Promise<T | VaultRequestError> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof VaultRequestError) return error;
    throw vaultKmsError(error);
  }
}
