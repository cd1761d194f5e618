import { create, toBinary } from "@bufbuild/protobuf";
import { GenerateDataKeyRequestSchema } from "../gen/kms/admin/v1/service_pb.js";
import type { SigningCredentials } from "../tools/sigv4-headers.js";
import {
  type AnswerCheck,
  expectDataKeyJson,
  expectDecryptJson,
  expectDescribeJson,
  expectGrpcDataKey,
  expectListPage,
} from "./answer-checks.js";
import { grpcFrame } from "./grpc-frame.js";
import { sendHttp1 } from "./send-once.js";
import { signRestRequest } from "./sign-rest-request.js";
import { signRpcRequest } from "./sign-rpc-request.js";
import type { HttpRequestSpec } from "./wrk-script.js";

/** ServerName names each server process of a run. */
export type ServerName =
  | "bare-http"
  | "bare-http-work"
  | "gateway"
  | "bare-http2"
  | "grpc-js"
  | "connect-noop"
  | "gateway-large";

/** PreparedScenario is a signed request ready to replay, where to send it, and how to check its answer. */
export interface PreparedScenario {
  baseUrl: string;
  request: HttpRequestSpec;
  check: AnswerCheck;
}

/** ScenarioContext is what preparing a scenario may use. */
export interface ScenarioContext {
  /** The server's `url` and the other fields of its listening line. */
  url: string;
  announced: Record<string, unknown>;
  keyId: string;
  /** Keys in the server's data directory (gateways). */
  keyCount: number;
  credentials: SigningCredentials;
}

/** ScenarioDef is one row of the table. */
export interface ScenarioDef {
  name: string;
  server: ServerName;
  tool: "wrk" | "h2load";
  /** The scenario whose requests/s is this one's ratio denominator. */
  baseline?: string;
  prepare(ctx: ScenarioContext): Promise<PreparedScenario>;
}

const REST = "/rustfs/admin/v3/kms";
const GENERATE_PROCEDURE = "/kms.admin.v1.KmsAdminService/GenerateDataKey";
const LIST_PAGE = 100;

/** BASELINE_HTTP names the bare node:http baseline, the REST scenarios' denominator. */
export const BASELINE_HTTP = "baseline node:http, fixed JSON";

/** BASELINE_WORK_US is the CPU the working node:http baseline spends on each request. */
export const BASELINE_WORK_US = 100;

/**
 * BASELINE_HTTP_WORK names node:http spending BASELINE_WORK_US of CPU per request, about
 * a gateway call's cost: its p99/p50 is the tail any Node server that busy shows here.
 */
export const BASELINE_HTTP_WORK = `baseline node:http, ${BASELINE_WORK_US} µs of CPU work per request`;
/** BASELINE_HTTP2 names the bare node:http2 baseline, the ceiling for gRPC on Node. */
export const BASELINE_HTTP2 = "baseline node:http2, fixed gRPC";
/** BASELINE_GRPC_JS names the no-op grpc-js baseline, the gRPC scenario's denominator. */
export const BASELINE_GRPC_JS = "baseline grpc-js no-op, gRPC";
/** BASELINE_CONNECT_GRPC names the no-op connect-node baseline over gRPC. */
export const BASELINE_CONNECT_GRPC = "baseline connect-node no-op, gRPC";
/** BASELINE_CONNECT_JSON names the no-op connect-node baseline over Connect JSON. */
export const BASELINE_CONNECT_JSON = "baseline connect-node no-op, Connect JSON";

function generateBody(keyId: string): string {
  return JSON.stringify({ key_id: keyId });
}

function restGenerate(ctx: ScenarioContext): Promise<HttpRequestSpec> {
  return signRestRequest({
    baseUrl: ctx.url,
    method: "POST",
    path: `${REST}/generate-data-key`,
    body: generateBody(ctx.keyId),
    credentials: ctx.credentials,
  });
}

function grpcGenerate(ctx: ScenarioContext): Promise<HttpRequestSpec> {
  const message = toBinary(
    GenerateDataKeyRequestSchema,
    create(GenerateDataKeyRequestSchema, { keyId: ctx.keyId }),
  );
  return signRpcRequest({
    baseUrl: ctx.url,
    procedure: GENERATE_PROCEDURE,
    contentType: "application/grpc",
    body: grpcFrame(message),
    credentials: ctx.credentials,
  });
}

/** The generate-data-key row over REST: its signed request and the check of its snake_case answer. */
async function prepareRestGenerate(ctx: ScenarioContext): Promise<PreparedScenario> {
  return {
    baseUrl: ctx.url,
    request: await restGenerate(ctx),
    check: expectDataKeyJson(ctx.keyId, "snake"),
  };
}

/** The generate-data-key row over gRPC, shared by the gateway and the gRPC baselines. */
async function prepareGrpcGenerate(ctx: ScenarioContext): Promise<PreparedScenario> {
  return {
    baseUrl: ctx.url,
    request: await grpcGenerate(ctx),
    check: expectGrpcDataKey(ctx.keyId),
  };
}

function connectGenerate(ctx: ScenarioContext, baseUrl: string): Promise<HttpRequestSpec> {
  return signRpcRequest({
    baseUrl,
    procedure: GENERATE_PROCEDURE,
    contentType: "application/json",
    body: new TextEncoder().encode(JSON.stringify({ keyId: ctx.keyId })),
    credentials: ctx.credentials,
  });
}

function listScenario(name: string, server: ServerName, baseline?: string): ScenarioDef {
  return {
    name,
    server,
    tool: "wrk",
    ...(baseline === undefined ? {} : { baseline }),
    async prepare(ctx) {
      const request = await signRestRequest({
        baseUrl: ctx.url,
        method: "GET",
        path: `${REST}/keys`,
        query: { limit: String(LIST_PAGE) },
        credentials: ctx.credentials,
      });
      return {
        baseUrl: ctx.url,
        request,
        check: expectListPage(Math.min(LIST_PAGE, ctx.keyCount), ctx.keyCount > LIST_PAGE),
      };
    },
  };
}

/**
 * scenarios lists every row in the order it runs, grouped by server so each
 * server starts once. Gateway rows are signed with SigV4 once and replayed;
 * baselines get the same request (their answer ignores the signature).
 */
export const scenarios: readonly ScenarioDef[] = [
  {
    name: BASELINE_HTTP,
    server: "bare-http",
    tool: "wrk",
    prepare: prepareRestGenerate,
  },
  {
    name: BASELINE_HTTP_WORK,
    server: "bare-http-work",
    tool: "wrk",
    prepare: prepareRestGenerate,
  },
  {
    name: "REST generate-data-key",
    server: "gateway",
    tool: "wrk",
    baseline: BASELINE_HTTP,
    prepare: prepareRestGenerate,
  },
  {
    name: "REST decrypt",
    server: "gateway",
    tool: "wrk",
    baseline: BASELINE_HTTP,
    async prepare(ctx) {
      // One real data key to decrypt again and again.
      const generated = await sendHttp1(ctx.url, await restGenerate(ctx));
      const bad = expectDataKeyJson(ctx.keyId, "snake")(generated);
      if (bad !== null) throw new Error(`generate-data-key for the decrypt scenario: ${bad}`);
      const key = JSON.parse(Buffer.from(generated.body).toString("utf8")) as {
        plaintext_key: string;
        ciphertext_blob: string;
      };
      const request = await signRestRequest({
        baseUrl: ctx.url,
        method: "POST",
        path: `${REST}/decrypt`,
        body: JSON.stringify({ ciphertext_blob: key.ciphertext_blob }),
        credentials: ctx.credentials,
      });
      return { baseUrl: ctx.url, request, check: expectDecryptJson(ctx.keyId, key.plaintext_key) };
    },
  },
  {
    name: "REST describe",
    server: "gateway",
    tool: "wrk",
    baseline: BASELINE_HTTP,
    async prepare(ctx) {
      const request = await signRestRequest({
        baseUrl: ctx.url,
        method: "GET",
        path: `${REST}/keys/${ctx.keyId}`,
        credentials: ctx.credentials,
      });
      return { baseUrl: ctx.url, request, check: expectDescribeJson(ctx.keyId) };
    },
  },
  {
    name: "gRPC generate-data-key (h2c)",
    server: "gateway",
    tool: "h2load",
    baseline: BASELINE_GRPC_JS,
    prepare: prepareGrpcGenerate,
  },
  {
    name: "Connect JSON generate-data-key (HTTP/1.1)",
    server: "gateway",
    tool: "wrk",
    baseline: BASELINE_HTTP,
    async prepare(ctx) {
      return {
        baseUrl: ctx.url,
        request: await connectGenerate(ctx, ctx.url),
        check: expectDataKeyJson(ctx.keyId, "camel"),
      };
    },
  },
  {
    name: "AWS KMS API GenerateDataKey (JSON 1.1)",
    server: "gateway",
    tool: "wrk",
    baseline: BASELINE_HTTP,
    async prepare(ctx) {
      const request = await signRestRequest({
        baseUrl: ctx.url,
        method: "POST",
        path: "/",
        body: JSON.stringify({ KeyId: ctx.keyId, KeySpec: "AES_256" }),
        contentType: "application/x-amz-json-1.1",
        headers: { "x-amz-target": "TrentService.GenerateDataKey" },
        service: "kms",
        credentials: ctx.credentials,
      });
      return { baseUrl: ctx.url, request, check: expectDataKeyJson(ctx.keyId, "aws") };
    },
  },
  listScenario("REST list, 1k keys", "gateway"),
  {
    name: BASELINE_HTTP2,
    server: "bare-http2",
    tool: "h2load",
    prepare: prepareGrpcGenerate,
  },
  {
    name: BASELINE_GRPC_JS,
    server: "grpc-js",
    tool: "h2load",
    prepare: prepareGrpcGenerate,
  },
  {
    name: BASELINE_CONNECT_GRPC,
    server: "connect-noop",
    tool: "h2load",
    prepare: prepareGrpcGenerate,
  },
  {
    name: BASELINE_CONNECT_JSON,
    server: "connect-noop",
    tool: "wrk",
    async prepare(ctx) {
      const baseUrl = String(ctx.announced.connectUrl);
      return {
        baseUrl,
        request: await connectGenerate(ctx, baseUrl),
        check: expectDataKeyJson(ctx.keyId, "camel"),
      };
    },
  },
  listScenario("REST list, large key count", "gateway-large", "REST list, 1k keys"),
];
