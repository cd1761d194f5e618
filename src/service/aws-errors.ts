import { Code, ConnectError } from "@connectrpc/connect";
import { isKmsError, KmsError, type KmsErrorCode } from "../engine/errors.js";
import { errorCodeHeader } from "./connect-error-from-kms.js";

/**
 * AwsExceptionName is one of the exception names of the AWS KMS API that this
 * gateway answers; AWS SDKs turn each into a typed exception (`NotFoundException`
 * → `NotFoundException` in @aws-sdk/client-kms, `KMS.Client.exceptions.…` in boto3).
 */
export type AwsExceptionName =
  | "AccessDeniedException"
  | "AlreadyExistsException"
  | "DependencyTimeoutException"
  | "DisabledException"
  | "IncorrectKeyException"
  | "InvalidCiphertextException"
  | "InvalidKeyUsageException"
  | "KMSInternalException"
  | "KMSInvalidStateException"
  | "LimitExceededException"
  | "NotFoundException"
  | "UnsupportedOperationException"
  | "ValidationException";

/** The AWS exception of each engine error; INVALID_KEY_STATE depends on the state (awsErrorOf). */
const BY_KMS_CODE: Record<KmsErrorCode, [AwsExceptionName, Code]> = {
  INVALID_ARGUMENT: ["ValidationException", Code.InvalidArgument],
  INVALID_CIPHERTEXT: ["InvalidCiphertextException", Code.InvalidArgument],
  KEY_NOT_FOUND: ["NotFoundException", Code.NotFound],
  KEY_EXISTS: ["AlreadyExistsException", Code.AlreadyExists],
  INVALID_KEY_STATE: ["KMSInvalidStateException", Code.FailedPrecondition],
  // The lifecycle codes reach a key operation only while the KMS is being reconfigured.
  ALREADY_RUNNING: ["KMSInternalException", Code.FailedPrecondition],
  NOT_CONFIGURED: ["KMSInternalException", Code.Unavailable],
  CONFIG_CONFLICT: ["KMSInternalException", Code.FailedPrecondition],
  NOT_RUNNING: ["KMSInternalException", Code.Unavailable],
  BACKEND_ERROR: ["KMSInternalException", Code.Internal],
  BACKEND_UNAVAILABLE: ["DependencyTimeoutException", Code.Unavailable],
};

/**
 * awsExceptionOfCode is the AWS exception of each Connect code, for errors that are
 * not the engine's (the authorizer's, the AWS JSON adapter's decoding).
 */
export function awsExceptionOfCode(code: Code): AwsExceptionName {
  switch (code) {
    case Code.PermissionDenied:
    case Code.Unauthenticated:
      return "AccessDeniedException";
    case Code.InvalidArgument:
    case Code.OutOfRange:
    case Code.ResourceExhausted:
      return "ValidationException";
    case Code.NotFound:
      return "NotFoundException";
    case Code.AlreadyExists:
      return "AlreadyExistsException";
    case Code.FailedPrecondition:
      return "KMSInvalidStateException";
    case Code.Unimplemented:
      return "UnsupportedOperationException";
    case Code.Unavailable:
    case Code.DeadlineExceeded:
      return "DependencyTimeoutException";
    default:
      return "KMSInternalException";
  }
}

/**
 * awsException is an error of the AWS KMS API that has no engine code
 * (IncorrectKeyException, UnsupportedOperationException…): a ConnectError whose
 * `kms-error-code` names the exception, so every protocol carries the name.
 */
export function awsException(name: AwsExceptionName, message: string, code: Code): ConnectError {
  return new ConnectError(message, code, { [errorCodeHeader]: name });
}

/**
 * NOT_ABOUT_ENABLED are the operations whose state refusals never mean "the key is not
 * enabled": a CancelKeyDeletion of a Disabled key is refused because the key is not
 * pending deletion, which AWS answers KMSInvalidStateException, not DisabledException.
 */
const NOT_ABOUT_ENABLED: ReadonlySet<string> = new Set(["CancelKeyDeletion"]);

/**
 * awsErrorOf turns whatever a TrentService call threw into a ConnectError whose
 * `kms-error-code` is an AWS exception name. A KmsError (kept as the cause of the
 * authorizer's ConnectError) decides it, INVALID_KEY_STATE by the key's state:
 * DisabledException for a disabled key, KMSInvalidStateException otherwise, as AWS
 * (and always KMSInvalidStateException for the operations of NOT_ABOUT_ENABLED).
 * Messages stay the engine's safe ones; an error the engine did not raise says only
 * "internal error".
 */
export function awsErrorOf(err: unknown, operation?: string): ConnectError {
  const kms = isKmsError(err)
    ? err
    : err instanceof ConnectError && err.cause instanceof KmsError
      ? err.cause
      : undefined;
  if (kms !== undefined) {
    const [name, code] =
      kms.code === "INVALID_KEY_STATE" &&
      kms.keyState === "Disabled" &&
      !NOT_ABOUT_ENABLED.has(operation ?? "")
        ? (["DisabledException", Code.FailedPrecondition] as const)
        : BY_KMS_CODE[kms.code];
    return new ConnectError(kms.message, code, { [errorCodeHeader]: name }, undefined, kms);
  }
  if (err instanceof ConnectError) {
    const named = err.metadata.get(errorCodeHeader);
    if (named?.endsWith("Exception")) return err;
    return new ConnectError(
      err.rawMessage,
      err.code,
      { [errorCodeHeader]: awsExceptionOfCode(err.code) },
      undefined,
      err.cause,
    );
  }
  return new ConnectError(
    "internal error",
    Code.Internal,
    { [errorCodeHeader]: "KMSInternalException" },
    undefined,
    err,
  );
}
