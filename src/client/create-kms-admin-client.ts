import { type Client, createClient } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { KmsAdminService } from "../../gen/kms/admin/v1/service_pb.js";
import { type Credentials, sigv4Interceptor } from "./sigv4-interceptor.js";

/** KmsAdminProtocol is the wire a client speaks: Connect (HTTP/1.1), gRPC (HTTP/2) or gRPC-Web (HTTP/1.1). */
export type KmsAdminProtocol = "connect" | "grpc" | "grpc-web";

/** KmsAdminClientOptions configure createKmsAdminClient. */
export interface KmsAdminClientOptions {
  /** The gateway's base URL, e.g. `http://127.0.0.1:9000` or `https://kms.example.com`. */
  endpoint: string;
  credentials: Credentials;
  /** Default `connect`. */
  protocol?: KmsAdminProtocol;
  /** The SigV4 region in the signature's scope (the gateway accepts any). */
  region?: string;
  /** PEM of a private CA that signs the gateway's certificate. */
  ca?: string | Buffer;
}

/** KmsAdminClient is the typed client of every KmsAdminService RPC. */
export type KmsAdminClient = Client<typeof KmsAdminService>;

/**
 * createKmsAdminClient returns a typed client of the gateway's KmsAdminService that
 * signs every call with SigV4:
 *
 *     const kms = createKmsAdminClient({ endpoint, credentials: { accessKey, secretKey } });
 *     const { keyId, plaintextKey, ciphertextBlob } = await kms.generateDataKey({ keyId: "app" });
 *
 * Errors are ConnectErrors whose code says what happened (NotFound, FailedPrecondition,
 * Unauthenticated…), on every protocol alike.
 */
export function createKmsAdminClient(options: KmsAdminClientOptions): KmsAdminClient {
  const interceptors = [sigv4Interceptor(options.credentials, options.region)];
  const nodeOptions = options.ca === undefined ? undefined : { ca: options.ca };
  const baseUrl = options.endpoint.replace(/\/+$/, "");
  const protocol = options.protocol ?? "connect";
  const transport =
    protocol === "grpc"
      ? createGrpcTransport({ baseUrl, interceptors, nodeOptions })
      : protocol === "grpc-web"
        ? createGrpcWebTransport({ baseUrl, httpVersion: "1.1", interceptors, nodeOptions })
        : protocol === "connect"
          ? createConnectTransport({ baseUrl, httpVersion: "1.1", interceptors, nodeOptions })
          : unknownProtocol(protocol);
  return createClient(KmsAdminService, transport);
}

function unknownProtocol(protocol: never): never {
  throw new Error(`unknown protocol "${String(protocol)}": use connect, grpc or grpc-web`);
}
