import { create, toBinary } from "@bufbuild/protobuf";
import { GenerateDataKeyResponseSchema } from "../../gen/kms/admin/v1/service_pb.js";
import { grpcFrame } from "../grpc-frame.js";

// Sizes of a real answer: a 32-byte data key and an envelope of 14 + id + 12 + 32 + 16 bytes.
const KEY_ID = "bench-000000";
const PLAINTEXT = new Uint8Array(32).fill(7);
const BLOB = new Uint8Array(14 + KEY_ID.length + 12 + 32 + 16).fill(9);

/** fixedDataKey is the data key every baseline answers, shaped like a real one. */
export const fixedDataKey = { keyId: KEY_ID, plaintextKey: PLAINTEXT, ciphertextBlob: BLOB };

/**
 * fixedGenerateDataKeyJson is the REST answer of generate-data-key for the
 * seeded key, byte for byte the same size as the gateway's, so the bare
 * node:http baseline writes what the gateway writes.
 */
export const fixedGenerateDataKeyJson = JSON.stringify({
  key_id: KEY_ID,
  plaintext_key: Buffer.from(PLAINTEXT).toString("base64"),
  ciphertext_blob: Buffer.from(BLOB).toString("base64"),
});

/** fixedGenerateDataKeyFrame is the same answer as one gRPC frame. */
export const fixedGenerateDataKeyFrame = grpcFrame(
  toBinary(GenerateDataKeyResponseSchema, create(GenerateDataKeyResponseSchema, fixedDataKey)),
);

/** announceListening prints the line the harness waits for: `{"message":"listening","url":…}`. */
export function announceListening(url: string, extra: Record<string, string> = {}): void {
  process.stderr.write(`${JSON.stringify({ message: "listening", url, ...extra })}\n`);
}

/** portOf returns the port a server bound. */
export function portOf(address: unknown): number {
  if (typeof address !== "object" || address === null || !("port" in address)) {
    throw new Error("server is not listening on a TCP port");
  }
  return Number(address.port);
}
