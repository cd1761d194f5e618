import type { KeyBackend } from "./backend.js";
import { isKmsError, KmsError } from "./errors.js";

/** EngineLog is the engine's logger. Callers never pass it secrets or key material. */
export type EngineLog = (
  level: "info" | "warn" | "error",
  message: string,
  fields?: Record<string, unknown>,
) => void;

/** BACKEND_FAILURE_MESSAGE is the generic message of a backend error that was not a KmsError. */
export const BACKEND_FAILURE_MESSAGE = "backend failure";

/**
 * toKmsError returns `error` when it is a KmsError (logging it when it is a
 * BACKEND_ERROR); anything else is logged (name and message only, never
 * request data) and wrapped as BACKEND_ERROR "backend failure" with the
 * original as `cause`, so its text never reaches a caller.
 */
export function toKmsError(error: unknown, operation: string, log: EngineLog): KmsError {
  if (isKmsError(error)) {
    if (error.code === "BACKEND_ERROR") {
      log("error", "backend operation failed", {
        operation,
        error: error.message,
        cause: error.cause === undefined ? undefined : describeError(error.cause),
      });
    }
    return error;
  }
  log("error", "backend operation failed", { operation, error: describeError(error) });
  return new KmsError("BACKEND_ERROR", BACKEND_FAILURE_MESSAGE, { cause: error });
}

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 500);
  return typeof error;
}

/** guardBackend wraps every method of `backend` so that it rejects only with KmsError. */
export function guardBackend(backend: KeyBackend, log: EngineLog): KeyBackend {
  async function call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw toKmsError(error, operation, log);
    }
  }
  return {
    health: () => call("health", () => backend.health()),
    create: (key) => call("create", () => backend.create(key)),
    get: (keyId) => call("get", () => backend.get(keyId)),
    put: (key) => call("put", () => backend.put(key)),
    list: (after, limit) => call("list", () => backend.list(after, limit)),
    destroy: (keyId) => call("destroy", () => backend.destroy(keyId)),
    readKeyring: () => call("readKeyring", () => backend.readKeyring()),
    writeKeyring: (bytes) => call("writeKeyring", () => backend.writeKeyring(bytes)),
    close: () => call("close", () => backend.close()),
  };
}
