import { Code, type ConnectError } from "@connectrpc/connect";

/**
 * restErrorCodes is the closed set of `code` strings a REST error body may
 * carry (contract §4).
 */
export const restErrorCodes = [
  "InvalidRequest",
  "InvalidCiphertext",
  "AccessDenied",
  "NotFound",
  "MethodNotAllowed",
  "Conflict",
  "ServiceUnavailable",
  "InternalError",
] as const;

/**
 * RestErrorCode is one of restErrorCodes.
 */
export type RestErrorCode = (typeof restErrorCodes)[number];

/**
 * RestErrorBody is the JSON body of every REST error response.
 */
export interface RestErrorBody {
  code: RestErrorCode;
  message: string;
}

/**
 * restErrorCodeHeader is the ConnectError metadata key through which the
 * service layer picks a REST `code` finer than the Connect code allows (e.g.
 * `InvalidCiphertext`, which travels as InvalidArgument).
 */
export const restErrorCodeHeader = "kms-error-code";

/**
 * restErrorCodeFromCode derives the REST `code` string from a Connect code
 * when the error names none itself.
 */
export function restErrorCodeFromCode(code: Code): RestErrorCode {
  switch (code) {
    case Code.InvalidArgument:
    case Code.OutOfRange:
    case Code.ResourceExhausted: // body over the limit: 413 InvalidRequest (contract §4)
      return "InvalidRequest";
    case Code.Unauthenticated:
    case Code.PermissionDenied:
      return "AccessDenied";
    case Code.NotFound:
      return "NotFound";
    case Code.AlreadyExists:
    case Code.FailedPrecondition:
    case Code.Aborted:
      return "Conflict";
    case Code.Unavailable:
    case Code.DeadlineExceeded:
      return "ServiceUnavailable";
    default:
      // Canceled, Unknown, Internal, DataLoss, Unimplemented: the contract has
      // no finer word for these.
      return "InternalError";
  }
}

/**
 * errorBody returns the REST body for a ConnectError: `code` from the
 * `kms-error-code` metadata when it holds one of restErrorCodes (any other
 * value is ignored rather than sent), else derived from the Connect code;
 * `message` is the error's raw message. The cause, details and stack are never
 * included.
 */
export function errorBody(err: ConnectError): RestErrorBody {
  const named = err.metadata.get(restErrorCodeHeader);
  const code =
    named !== null && (restErrorCodes as readonly string[]).includes(named)
      ? (named as RestErrorCode)
      : restErrorCodeFromCode(err.code);
  return { code, message: err.rawMessage };
}
