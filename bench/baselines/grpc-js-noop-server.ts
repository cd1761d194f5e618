/**
 * grpc-js-noop-server is what a Node gRPC user would pick instead: a
 * @grpc/grpc-js server loaded from the same proto with @grpc/proto-loader,
 * whose GenerateDataKey decodes the request and answers a fixed data key.
 */
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { announceListening, fixedDataKey } from "./fixed-responses.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const definition = protoLoader.loadSync("kms/admin/v1/service.proto", {
  includeDirs: [`${root}proto`, `${root}third_party`],
  keepCase: true,
  defaults: true,
});
const service = (
  grpc.loadPackageDefinition(definition) as unknown as {
    kms: { admin: { v1: { KmsAdminService: { service: grpc.ServiceDefinition } } } };
  }
).kms.admin.v1.KmsAdminService.service;
const answer = {
  key_id: fixedDataKey.keyId,
  plaintext_key: Buffer.from(fixedDataKey.plaintextKey),
  ciphertext_blob: Buffer.from(fixedDataKey.ciphertextBlob),
};
const server = new grpc.Server();
server.addService(service, {
  GenerateDataKey: (_call: unknown, callback: grpc.sendUnaryData<typeof answer>) =>
    callback(null, answer),
});
server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err !== null) throw err;
  announceListening(`http://127.0.0.1:${port}`);
});
process.on("SIGTERM", () => process.exit(0));
