/**
 * The package's public API for Node services: a typed, SigV4-signing client of the
 * gateway (see docs/client.md), and the generated message types it speaks.
 */

export * from "../../gen/kms/admin/v1/service_pb.js";
export * from "../../gen/kms/admin/v1/types_pb.js";
export {
  createKmsAdminClient,
  type KmsAdminClient,
  type KmsAdminClientOptions,
  type KmsAdminProtocol,
} from "./create-kms-admin-client.js";
export { type Credentials, sigv4Interceptor } from "./sigv4-interceptor.js";
