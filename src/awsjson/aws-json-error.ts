import type { ConnectError } from "@connectrpc/connect";
import type { RestResponse } from "../rest/index.js";
import { awsExceptionOfCode } from "../service/aws-errors.js";
import { errorCodeHeader } from "../service/connect-error-from-kms.js";

/**
 * awsExceptionHeader is the ConnectError metadata entry through which the service
 * names the AWS exception of an error (`NotFoundException`): the entry that carries
 * the REST code for the admin service.
 */
export const awsExceptionHeader = errorCodeHeader;

/** SERVER_FAULTS are the exceptions AWS answers with 500; every other error is the client's (400). */
const SERVER_FAULTS: ReadonlySet<string> = new Set([
  "KMSInternalException",
  "DependencyTimeoutException",
]);

/**
 * awsExceptionOf names the AWS exception of an error: the one the service chose, or,
 * for an error raised before the service ran (decoding, the adapter's own checks),
 * the one of its Connect code.
 */
export function awsExceptionOf(err: ConnectError): string {
  const named = err.metadata.get(awsExceptionHeader);
  if (named?.endsWith("Exception")) return named;
  return awsExceptionOfCode(err.code);
}

/**
 * awsJsonError is the AWS JSON 1.1 answer of an error: status 500 for a server fault,
 * else 400; `x-amzn-ErrorType` and `{"__type", "message"}`, which AWS SDKs turn into
 * typed exceptions. The message is the error's own, written for callers.
 */
export function awsJsonError(name: string, message: string): RestResponse {
  return {
    status: SERVER_FAULTS.has(name) ? 500 : 400,
    headers: {
      "content-type": "application/x-amz-json-1.1",
      "cache-control": "no-store",
      "x-amzn-errortype": name,
    },
    body: JSON.stringify({ __type: name, message }),
  };
}

/** awsJsonErrorOf is awsJsonError for a ConnectError. */
export function awsJsonErrorOf(err: ConnectError): RestResponse {
  return { ...awsJsonError(awsExceptionOf(err), err.rawMessage), errorCode: err.code };
}
