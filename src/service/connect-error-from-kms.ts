import { Code, ConnectError } from "@connectrpc/connect";
import { isKmsError, type KmsErrorCode } from "../engine/errors.js";

/**
 * errorCodeHeader names the metadata entry that carries the REST error code
 * (`InvalidRequest`, `InvalidCiphertext`, …) beside the Connect code, so the
 * REST layer can tell two InvalidArgument errors apart and RPC clients get a
 * machine-readable reason too.
 */
export const errorCodeHeader = "kms-error-code";

/** The one mapping from engine error codes to Connect codes and REST codes (contract §4). */
const mapping: Record<KmsErrorCode, [Code, string]> = {
  INVALID_ARGUMENT: [Code.InvalidArgument, "InvalidRequest"],
  INVALID_CIPHERTEXT: [Code.InvalidArgument, "InvalidCiphertext"],
  KEY_NOT_FOUND: [Code.NotFound, "NotFound"],
  KEY_EXISTS: [Code.AlreadyExists, "Conflict"],
  ALREADY_RUNNING: [Code.FailedPrecondition, "Conflict"],
  NOT_CONFIGURED: [Code.FailedPrecondition, "Conflict"],
  INVALID_KEY_STATE: [Code.FailedPrecondition, "Conflict"],
  CONFIG_CONFLICT: [Code.FailedPrecondition, "Conflict"],
  NOT_RUNNING: [Code.Unavailable, "ServiceUnavailable"],
  BACKEND_ERROR: [Code.Internal, "InternalError"],
  BACKEND_UNAVAILABLE: [Code.Unavailable, "ServiceUnavailable"],
};

/**
 * connectErrorFromKms turns anything an engine call threw into a ConnectError
 * whose message is safe to show: a KmsError keeps its (safe) message; any other
 * error becomes a generic internal error. The original is kept as `cause` for
 * the server's log, never for the client.
 */
export function connectErrorFromKms(err: unknown): ConnectError {
  if (err instanceof ConnectError) {
    return err;
  }
  if (isKmsError(err)) {
    const [code, restCode] = mapping[err.code];
    return new ConnectError(err.message, code, { [errorCodeHeader]: restCode }, undefined, err);
  }
  return new ConnectError(
    "internal error",
    Code.Internal,
    { [errorCodeHeader]: "InternalError" },
    undefined,
    err,
  );
}
