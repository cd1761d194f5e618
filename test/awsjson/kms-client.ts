import { KMSClient } from "@aws-sdk/client-kms";
import {
  type RestAnswer,
  type SignedFetchOptions,
  signedFetch,
  testCredentials,
} from "../helpers/signed-fetch.js";

/**
 * kmsClient is AWS's own KMS client (@aws-sdk/client-kms) pointed at a gateway: it
 * signs with SigV4 for service `kms` in `region`, and is told not to retry, so each
 * case sees the gateway's first answer.
 */
export function kmsClient(
  url: string,
  options: { region?: string; credentials?: { accessKeyId: string; secretAccessKey: string } } = {},
): KMSClient {
  return new KMSClient({
    endpoint: url,
    region: options.region ?? "us-east-1",
    credentials: options.credentials ?? testCredentials,
    maxAttempts: 1,
  });
}

/**
 * awsJsonFetch sends one raw AWS JSON 1.1 request (`POST /`, `X-Amz-Target:
 * TrentService.<operation>`), signed for service `kms` unless `options` say otherwise.
 */
export function awsJsonFetch(
  url: string,
  operation: string | null,
  body: string,
  options: SignedFetchOptions = {},
): Promise<RestAnswer> {
  return signedFetch(url, "POST", "/", {
    service: "kms",
    body,
    ...options,
    headers: {
      "content-type": "application/x-amz-json-1.1",
      ...(operation === null ? {} : { "x-amz-target": `TrentService.${operation}` }),
      ...options.headers,
    },
  });
}
