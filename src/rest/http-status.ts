import { Code } from "@connectrpc/connect";

/**
 * httpStatusFromCode returns the REST status for a Connect error code. It is
 * the one place that decides it; connect-es `protocol-connect/http-status.ts`
 * is the model, with three deliberate differences required by the contract
 * (§4), marked below.
 */
export function httpStatusFromCode(code: Code): number {
  switch (code) {
    case Code.Canceled:
      return 499; // Client Closed Request: the caller went away, nobody reads this
    case Code.Unknown:
      return 500; // Internal Server Error
    case Code.InvalidArgument:
      return 400; // Bad Request: malformed input, bad ciphertext
    case Code.DeadlineExceeded:
      return 504; // Gateway Timeout: a backend call outlived its budget
    case Code.NotFound:
      return 404; // Not Found: unknown or destroyed key
    case Code.AlreadyExists:
      return 409; // Conflict: duplicate key id
    case Code.PermissionDenied:
      return 403; // Forbidden: signed, but the policy denies it
    case Code.ResourceExhausted:
      // Differs from connect-es (429): the only exhaustion this gateway knows
      // is a request body over the limit (connect-node's readMaxBytes raises
      // ResourceExhausted too), and the contract answers that with 413. There
      // is no rate limiting that would want 429.
      return 413; // Content Too Large
    case Code.FailedPrecondition:
      // Differs from connect-es (400): the contract answers "already running",
      // "not configured" and forbidden key states with 409 Conflict.
      return 409;
    case Code.Aborted:
      return 409; // Conflict
    case Code.OutOfRange:
      return 400; // Bad Request
    case Code.Unimplemented:
      return 501; // Not Implemented: the service has no handler for the RPC
    case Code.Internal:
      return 500; // Internal Server Error: backend failure
    case Code.Unavailable:
      // connect-es also says 503; the contract uses it for key operations
      // while the service is not running.
      return 503; // Service Unavailable
    case Code.DataLoss:
      return 500; // Internal Server Error
    case Code.Unauthenticated:
      return 401; // Unauthorized: unsigned or badly signed
    default:
      return 500; // same as Code.Unknown
  }
}
