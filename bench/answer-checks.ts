import { fromBinary } from "@bufbuild/protobuf";
import { GenerateDataKeyResponseSchema } from "../gen/kms/admin/v1/service_pb.js";
import { readGrpcFrames } from "./grpc-frame.js";
import type { Answer } from "./send-once.js";

/** AnswerCheck returns null when an answer is right, else why it is wrong. */
export type AnswerCheck = (answer: Answer) => string | null;

function json(answer: Answer): Record<string, unknown> | string {
  try {
    const value: unknown = JSON.parse(Buffer.from(answer.body).toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : "the body is not a JSON object";
  } catch {
    return "the body is not JSON";
  }
}

function base64Length(value: unknown): number {
  return typeof value === "string" && /^[A-Za-z0-9+/]*={0,2}$/.test(value)
    ? Buffer.from(value, "base64").length
    : -1;
}

function status(answer: Answer, expected: number): string | null {
  return answer.status === expected
    ? null
    : `HTTP ${answer.status}, expected ${expected}: ${Buffer.from(answer.body).toString("utf8").slice(0, 200)}`;
}

/** okJsonObject checks a 200 answer whose body is a JSON object, then runs `check` on that object. */
function okJsonObject(check: (body: Record<string, unknown>) => string | null): AnswerCheck {
  return (answer) => {
    const bad = status(answer, 200);
    if (bad !== null) return bad;
    const body = json(answer);
    return typeof body === "string" ? body : check(body);
  };
}

/**
 * expectDataKeyJson checks a generate-data-key answer in JSON: 200, the key id,
 * a 32-byte plaintext key and a non-empty blob, under REST's snake_case names
 * or Connect's camelCase ones.
 */
export function expectDataKeyJson(keyId: string, names: "snake" | "camel" | "aws"): AnswerCheck {
  const [id, plain, blob] = DATA_KEY_NAMES[names];
  // The AWS KMS API names the key by its ARN, which ends in `key/<id>`.
  const wanted =
    names === "aws"
      ? (v: unknown) => String(v).endsWith(`:key/${keyId}`)
      : (v: unknown) => v === keyId;
  return okJsonObject((body) => {
    if (!wanted(body[id])) return `${id} is not ${keyId}`;
    if (base64Length(body[plain]) !== 32) return `${plain} is not a 32-byte base64 key`;
    if (base64Length(body[blob]) < 1) return `${blob} is not base64`;
    return null;
  });
}

/** The member names of a data key answer: REST (snake), Connect JSON (camel), the AWS KMS API. */
const DATA_KEY_NAMES = {
  snake: ["key_id", "plaintext_key", "ciphertext_blob"],
  camel: ["keyId", "plaintextKey", "ciphertextBlob"],
  aws: ["KeyId", "Plaintext", "CiphertextBlob"],
} as const;

/** expectDecryptJson checks a REST decrypt answer: 200, the key id, the expected plaintext key. */
export function expectDecryptJson(keyId: string, plaintextKey: string): AnswerCheck {
  return okJsonObject((body) => {
    if (body.key_id !== keyId) return `key_id is not ${keyId}`;
    if (body.plaintext_key !== plaintextKey) return "plaintext_key is not the generated data key";
    return null;
  });
}

/** expectDescribeJson checks a REST describe answer: 200 and the key's metadata. */
export function expectDescribeJson(keyId: string): AnswerCheck {
  return okJsonObject((body) => {
    const metadata = body.key_metadata as Record<string, unknown> | null | undefined;
    if (metadata?.key_id !== keyId) return `key_metadata.key_id is not ${keyId}`;
    if (metadata.key_state !== "Enabled") return "key_state is not Enabled";
    return null;
  });
}

/** expectListPage checks a REST list answer: 200, `pageSize` keys in ascending order, truncated as expected. */
export function expectListPage(pageSize: number, truncated: boolean): AnswerCheck {
  return okJsonObject((body) => {
    const keys = body.keys;
    if (!Array.isArray(keys) || keys.length !== pageSize) return `expected ${pageSize} keys`;
    const ids = keys.map((k: { key_id?: unknown }) => String(k.key_id));
    if (ids.some((id, i) => i > 0 && (ids[i - 1] as string) >= id)) return "keys are not in order";
    if (body.truncated !== truncated) return `truncated is not ${truncated}`;
    return null;
  });
}

/**
 * expectGrpcDataKey checks a gRPC GenerateDataKey answer: HTTP 200,
 * `grpc-status: 0` (in the trailers, or the headers of a trailers-only
 * answer), one frame decoding to the key id and a 32-byte plaintext key.
 */
export function expectGrpcDataKey(keyId: string | null): AnswerCheck {
  return (answer) => {
    const bad = status(answer, 200);
    if (bad !== null) return bad;
    const grpcStatus = answer.trailers["grpc-status"] ?? answer.headers["grpc-status"];
    if (grpcStatus !== "0") {
      const message = answer.trailers["grpc-message"] ?? answer.headers["grpc-message"] ?? "";
      return `grpc-status ${grpcStatus ?? "missing"} ${decodeURIComponent(message)}`;
    }
    let frames: Uint8Array[];
    try {
      frames = readGrpcFrames(answer.body);
    } catch (err) {
      return (err as Error).message;
    }
    if (frames.length !== 1) return `expected one response frame, got ${frames.length}`;
    const message = fromBinary(GenerateDataKeyResponseSchema, frames[0] as Uint8Array);
    if (keyId !== null && message.keyId !== keyId) return `keyId is not ${keyId}`;
    if (message.plaintextKey.length !== 32) return "plaintextKey is not 32 bytes";
    return null;
  };
}
