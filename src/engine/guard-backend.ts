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
 * toKmsError returns `error` unchanged when it is a KmsError: it is already
 * safe to show, carries its `cause`, and is logged once by whoever finally
 * handles it (the service for a request, the engine for background work).
 * Anything else is logged here, the one place it is converted (name and
 * message only, never request data), and wrapped as BACKEND_ERROR "backend
 * failure" with the original as `cause`, so its text never reaches a caller.
 */
export function toKmsError(error: unknown, operation: string, log: EngineLog): KmsError {
  if (isKmsError(error)) return error;
  log("error", "backend operation failed", { operation, error: describeError(error) });
  return new KmsError("BACKEND_ERROR", BACKEND_FAILURE_MESSAGE, { cause: error });
}

/**
 * describeFailure is the log text of an error the engine handles itself: a
 * KmsError's message and its cause, or any other error's name and message;
 * never a stack.
 */
export function describeFailure(error: unknown): string {
  if (!isKmsError(error)) return describeError(error);
  if (error.cause === undefined) return error.message;
  return `${error.message}; caused by ${describeError(error.cause)}`;
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
  const custody = backend.custody;
  return {
    ...(custody === undefined
      ? {}
      : {
          custody: {
            rotate: (keyId) => call("rotate", () => custody.rotate(keyId)),
            wrap: (keyId, plaintext, aad) =>
              call("wrap", () => custody.wrap(keyId, plaintext, aad)),
            unwrap: (keyId, ciphertext, aad) =>
              call("unwrap", () => custody.unwrap(keyId, ciphertext, aad)),
          },
        }),
    health: () => call("health", () => backend.health()),
    create: (key) => call("create", () => backend.create(key)),
    get: (keyId) => call("get", () => backend.get(keyId)),
    put: (key) => call("put", () => backend.put(key)),
    list: (after, limit) => call("list", () => backend.list(after, limit)),
    destroy: (keyId) => call("destroy", () => backend.destroy(keyId)),
    createAlias: (alias) => call("createAlias", () => backend.createAlias(alias)),
    getAlias: (name) => call("getAlias", () => backend.getAlias(name)),
    putAlias: (alias) => call("putAlias", () => backend.putAlias(alias)),
    deleteAlias: (name) => call("deleteAlias", () => backend.deleteAlias(name)),
    listAliases: (after, limit) => call("listAliases", () => backend.listAliases(after, limit)),
    readKeyring: () => call("readKeyring", () => backend.readKeyring()),
    writeKeyring: (bytes) => call("writeKeyring", () => backend.writeKeyring(bytes)),
    close: () => call("close", () => backend.close()),
  };
}
