import type { Interceptor } from "@connectrpc/connect";
import { type SigningCredentials, sigv4Headers } from "../../tools/sigv4-headers.js";
import { testCredentials } from "./signed-fetch.js";

/** signRpc signs an RPC call (see tools/sigv4-headers.ts) with the test credentials unless told otherwise. */
export function signRpc(
  url: string,
  credentials: SigningCredentials = testCredentials,
): Promise<Record<string, string>> {
  return sigv4Headers(url, credentials);
}

/** sigv4Interceptor signs every Connect / gRPC / gRPC-Web call of a client. */
export function sigv4Interceptor(credentials?: {
  accessKeyId: string;
  secretAccessKey: string;
}): Interceptor {
  return (next) => async (req) => {
    for (const [name, value] of Object.entries(await signRpc(req.url, credentials))) {
      req.header.set(name, value);
    }
    return next(req);
  };
}
