import { create, fromJson, type JsonObject, type JsonValue, toJson } from "@bufbuild/protobuf";
import { createMethodSerializationLookup } from "@connectrpc/connect/protocol";
import {
  GenerateDataKeyResponseSchema,
  KmsAdminService,
} from "../../gen/kms/admin/v1/service_pb.js";
import { TrentService } from "../../gen/kms/aws/v1/trent_service_pb.js";
import { compileRestJsonReader } from "../../src/rest/compiled-json-reader.js";
import { compileProtoJsonWriter } from "../../src/rest/json-writer.js";
import { screenRpcBody } from "../../src/server/screen-rpc-request.js";
import { fixedDataKey } from "../baselines/fixed-responses.js";
import type { MicroBench } from "./micro-bench.js";

/** CodecPair is one piece of a JSON path, compiled and as the reflective reference does it. */
export interface CodecPair {
  name: string;
  compiled: () => unknown;
  reflective: () => unknown;
}

/**
 * rpcJsonPairs are the JSON codecs of the Connect JSON and AWS JSON paths on
 * generate-data-key, each compiled (what the paths run) and reflective (protobuf-es
 * `fromJson` / `toJson`, what they ran before): the Connect JSON response as connect's
 * serializer writes it (`createMethodSerializationLookup(…).getO(false).serialize`) and
 * the request as screening reads it, the AWS request (KeyId, KeySpec, EncryptionContext,
 * as the SDK sends it) and response. Every operation checks its answer.
 */
export function rpcJsonPairs(): CodecPair[] {
  const admin = KmsAdminService.method.generateDataKey;
  const aws = TrentService.method.generateDataKey;
  const connectResponse = create(GenerateDataKeyResponseSchema, fixedDataKey);
  const connectSerializer = createMethodSerializationLookup(admin, undefined, undefined, {
    readMaxBytes: 0xffffffff,
    writeMaxBytes: 0xffffffff,
  }).getO(false);
  const writeConnect = compileProtoJsonWriter(admin.output);
  const connectLength = connectSerializer.serialize(connectResponse).byteLength;

  const connectBody = JSON.stringify({ keyId: "bench-000000" });
  const readConnect = compileRestJsonReader(admin.input, { ignoreUnknownFields: true });

  const awsBody = JSON.stringify({
    KeyId: "alias/bench",
    KeySpec: "AES_256",
    EncryptionContext: { bucket: "bench", key: "objects/000001" },
  });
  const readAws = compileRestJsonReader(aws.input, { ignoreUnknownFields: true });
  const awsResponse = create(aws.output, {
    keyId: "arn:aws:kms:us-east-1:000000000000:key/bench-000000",
    plaintext: fixedDataKey.plaintextKey,
    ciphertextBlob: fixedDataKey.ciphertextBlob,
  });
  const writeAws = compileProtoJsonWriter(aws.output);
  const awsLength = JSON.stringify(toJson(aws.output, awsResponse)).length;

  const expectLength = (got: number, want: number) => {
    if (got !== want) throw new Error(`wrong JSON: ${got} bytes, expected ${want}`);
  };
  const expectKey = (message: { keyId?: unknown } | undefined) => {
    if (typeof message?.keyId !== "string" || message.keyId === "") throw new Error("no key id");
  };
  return [
    {
      name: "Connect JSON response encode (generate-data-key)",
      compiled: () => {
        const text = writeConnect(connectResponse);
        expectLength(Buffer.from(text ?? "").byteLength, connectLength);
      },
      reflective: () =>
        expectLength(connectSerializer.serialize(connectResponse).byteLength, connectLength),
    },
    {
      name: "Connect JSON request decode (generate-data-key)",
      compiled: () => expectKey(readConnect(JSON.parse(connectBody) as JsonObject) as never),
      reflective: () =>
        expectKey(
          fromJson(admin.input, JSON.parse(connectBody) as JsonValue, {
            ignoreUnknownFields: true,
          }),
        ),
    },
    {
      name: "AWS JSON request decode (GenerateDataKey)",
      compiled: () => expectKey(readAws(JSON.parse(awsBody) as JsonObject) as never),
      reflective: () =>
        expectKey(
          fromJson(aws.input, JSON.parse(awsBody) as JsonValue, { ignoreUnknownFields: true }),
        ),
    },
    {
      name: "AWS JSON response encode (GenerateDataKey)",
      compiled: () => expectLength((writeAws(awsResponse) ?? "").length, awsLength),
      reflective: () =>
        expectLength(JSON.stringify(toJson(aws.output, awsResponse)).length, awsLength),
    },
  ];
}

/**
 * rpcJsonMicro times the pairs of rpcJsonPairs side by side (compiled, then the reflective
 * reference), and the whole screening of a Connect JSON request body as the lean unary path
 * runs it (`screenRpcBody`: UTF-8, depth, JSON.parse, the lossy-input checks, the reader).
 */
export async function rpcJsonMicro(): Promise<MicroBench[]> {
  const input = KmsAdminService.method.generateDataKey.input;
  const body = new TextEncoder().encode(JSON.stringify({ keyId: "bench-000000" }));
  const rows: MicroBench[] = [];
  for (const pair of rpcJsonPairs()) {
    rows.push({ name: `${pair.name}, compiled`, fn: pair.compiled });
    rows.push({ name: `${pair.name}, reflective (reference)`, fn: pair.reflective });
  }
  rows.push({
    name: "Connect JSON request screening (generate-data-key)",
    fn: () => {
      const verdict = screenRpcBody(input, "connect", true, null, body);
      if (verdict instanceof Promise || "error" in verdict) throw new Error("screening refused");
    },
  });
  return rows;
}
