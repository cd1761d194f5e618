import { type SigningCredentials, sigv4Headers } from "../tools/sigv4-headers.js";
import type { HttpRequestSpec } from "./wrk-script.js";

/** RpcRequestInput is a unary RPC to sign: its URL, content type and body bytes. */
export interface RpcRequestInput {
  /** The server's origin, e.g. `http://127.0.0.1:9000`. */
  baseUrl: string;
  /** `/package.Service/Method`. */
  procedure: string;
  /** `application/grpc` or `application/json` (Connect). */
  contentType: string;
  body: Uint8Array;
  credentials: SigningCredentials;
}

/**
 * signRpcRequest signs a Connect or gRPC call with the repo's RPC signer
 * (tools/sigv4-headers.ts: `UNSIGNED-PAYLOAD`, valid for 15 minutes) and
 * returns the request to replay. gRPC calls get `te: trailers`; Connect JSON
 * calls a `content-length` (HTTP/1.1).
 */
export async function signRpcRequest(input: RpcRequestInput): Promise<HttpRequestSpec> {
  const url = new URL(input.procedure, input.baseUrl);
  const signed = await sigv4Headers(url.href, input.credentials);
  const headers: Record<string, string> = { host: url.host, "content-type": input.contentType };
  for (const [name, value] of Object.entries(signed)) headers[name.toLowerCase()] = value;
  if (input.contentType.startsWith("application/grpc")) headers.te = "trailers";
  else headers["content-length"] = String(input.body.length);
  return { method: "POST", path: url.pathname, headers, body: input.body };
}
