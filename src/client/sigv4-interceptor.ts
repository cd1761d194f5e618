import type { Interceptor } from "@connectrpc/connect";
import { signSigV4 } from "../auth/sign-sigv4.js";

/** Credentials are an access key and its secret key. */
export interface Credentials {
  accessKey: string;
  secretKey: string;
}

/**
 * sigv4Interceptor signs every call of a Connect client with AWS Signature V4
 * over its URL and headers, with `UNSIGNED-PAYLOAD` (an interceptor sees messages,
 * not the bytes sent, and the gateway accepts unsigned payloads on RPC calls).
 * Each call is signed when it is made, so a long-lived client never sends a
 * signature older than the gateway's 15-minute window.
 */
export function sigv4Interceptor(credentials: Credentials, region = "us-east-1"): Interceptor {
  return (next) => async (req) => {
    const headers = signSigV4({
      method: "POST",
      url: new URL(req.url),
      payloadHash: "UNSIGNED-PAYLOAD",
      accessKey: credentials.accessKey,
      secretKey: credentials.secretKey,
      region,
      service: "kms",
    });
    for (const [name, value] of Object.entries(headers)) req.header.set(name, value);
    return next(req);
  };
}
