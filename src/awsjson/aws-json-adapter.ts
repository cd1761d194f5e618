import type { DescMethod, DescService, JsonValue, Message } from "@bufbuild/protobuf";
import { create, isMessage, toJson } from "@bufbuild/protobuf";
import type { ContextValues, HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import { compileRestJsonReader } from "../rest/compiled-json-reader.js";
import type { RestRequest, RestResponse } from "../rest/index.js";
import { isJsonObject } from "../rest/is-json-object.js";
import { exceedsJsonDepth, maxJsonDepth } from "../rest/json-depth.js";
import { compileProtoJsonWriter, type ProtoJsonWriter } from "../rest/json-writer.js";
import { clientGoneFromSignal, createLazyHandlerContext } from "../rest/lazy-handler-context.js";
import { messageFromJson } from "../rest/message-from-json.js";
import { awsExceptionHeader, awsJsonError, awsJsonErrorOf } from "./aws-json-error.js";

/** AWS_JSON_CONTENT_TYPE is the media type of AWS JSON 1.1 requests and answers. */
export const AWS_JSON_CONTENT_TYPE = "application/x-amz-json-1.1";

/** AwsJsonAdapterOptions configure createAwsJsonAdapter. */
export interface AwsJsonAdapterOptions<S extends DescService> {
  /** The AWS-shaped service (kms.aws.v1.TrentService): its methods are the operations. */
  service: S;
  /** The implementation to call directly. */
  implementation: ServiceImpl<S>;
  /**
   * Called once the operation is known, before the body is decoded; a ConnectError
   * it throws is the answer (the gateway refuses here a caller without permission).
   */
  beforeDecode?: (method: DescMethod, contextValues: ContextValues) => Promise<void> | void;
  /** Called with every error a handler throws, for the server's log; the client sees the error body. */
  onError?: (error: unknown, method: DescMethod) => void;
}

/** AwsJsonRequest is one request as the adapter needs it: its two protocol headers and the rest. */
export interface AwsJsonRequest {
  /** `X-Amz-Target`, e.g. `TrentService.GenerateDataKey`. */
  target: string | undefined;
  contentType: string | undefined;
  /** The body (already bounded), headers (lazily built), context values and signal. */
  request: RestRequest;
}

/** AwsJsonAdapter answers AWS JSON 1.1 requests; `handle` never throws. */
export interface AwsJsonAdapter {
  handle(req: AwsJsonRequest): Promise<RestResponse>;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Operation names are PascalCase words; anything else is not echoed back. */
const OPERATION_NAME = /^[A-Za-z][A-Za-z0-9]{0,63}$/;

/**
 * createAwsJsonAdapter serves AWS JSON 1.1 (`POST /`, `Content-Type:
 * application/x-amz-json-1.1`, `X-Amz-Target: <Service>.<Operation>`) from a service
 * descriptor: the operation is the method of that name, so there is no table of
 * operations to keep in step with the proto. The body is the input message's protobuf
 * JSON with AWS's member names (`json_name`), unknown members ignored as AWS services do,
 * after the checks the REST decoder also makes (nesting depth, a `__proto__` map key,
 * integers as plain decimals): read by a reader compiled once per operation from the
 * descriptor, which leaves every other shape, and every error, to `fromJson`. Errors
 * never echo a value.
 *
 * Answers: 200 with the output message's JSON (AWS's names; unset members left out),
 * written by a writer compiled from the descriptor that gives `toJson`'s exact text,
 * or an error as awsJsonError builds it. An unknown operation is
 * UnsupportedOperationException naming it; a wrong media type or missing target is
 * ValidationException; unreadable JSON is SerializationException.
 */
export function createAwsJsonAdapter<S extends DescService>(
  options: AwsJsonAdapterOptions<S>,
): AwsJsonAdapter {
  const { service } = options;
  const prefix = `${service.name}.`;
  const methods = new Map(service.methods.map((m) => [m.name, m]));
  // Each operation's JSON writer, compiled once from the descriptors; its reader is compiled
  // now too, into compileRestJsonReader's cache, where messageFromJson finds it.
  const writers = new Map<DescMethod, ProtoJsonWriter>(
    service.methods.map((m) => {
      compileRestJsonReader(m.input, { ignoreUnknownFields: true });
      return [m, compileProtoJsonWriter(m.output)];
    }),
  );
  const rpcNames = new Map(service.methods.map((m) => [m, `${service.typeName}/${m.name}`]));
  const implementation = options.implementation as unknown as Record<
    string,
    (request: Message, context: HandlerContext) => unknown
  >;

  async function call(
    req: RestRequest,
    method: DescMethod,
    write: ProtoJsonWriter,
    input: Message,
  ): Promise<RestResponse> {
    const { context, end } = createLazyHandlerContext({
      method,
      protocolName: "aws-json",
      requestMethod: req.method,
      url: () => `http://${req.headers.get("host") ?? "localhost"}/`,
      onClientGone: clientGoneFromSignal(() => req.signal),
      requestHeader: () => req.headers,
      contextValues: req.contextValues,
    });
    try {
      const handler = implementation[method.localName] as (
        request: Message,
        context: HandlerContext,
      ) => unknown;
      const result: unknown = await handler.call(options.implementation, input, context);
      const output = isMessage(result, method.output)
        ? result
        : create(method.output, result as Parameters<typeof create>[1]);
      return {
        status: 200,
        headers: { "content-type": AWS_JSON_CONTENT_TYPE, "cache-control": "no-store" },
        // The compiled writer's text, or (for what it leaves) the reflective path's text or error.
        body: write(output) ?? JSON.stringify(toJson(method.output, output)),
      };
    } catch (e) {
      try {
        options.onError?.(e, method);
      } catch {
        // A failing logger must not turn a clean error answer into a crash.
      }
      return awsJsonErrorOf(toConnectError(e));
    } finally {
      end();
    }
  }

  return {
    async handle({ target, contentType, request }) {
      if (!isAwsJson(contentType)) {
        return awsJsonError("ValidationException", `Content-Type must be ${AWS_JSON_CONTENT_TYPE}`);
      }
      if (target === undefined || target === "") {
        return awsJsonError("ValidationException", "the X-Amz-Target header is missing");
      }
      const name = target.startsWith(prefix) ? target.slice(prefix.length) : "";
      const method = methods.get(name);
      if (method === undefined) {
        const shown = OPERATION_NAME.test(name) ? name : "this operation";
        return awsJsonError(
          "UnsupportedOperationException",
          `${shown} is not supported by this KMS (X-Amz-Target must be ${prefix}<Operation>)`,
        );
      }
      let answer: RestResponse;
      try {
        await options.beforeDecode?.(method, request.contextValues);
        const write = writers.get(method) as ProtoJsonWriter;
        answer = await call(request, method, write, decode(method, request.body));
      } catch (e) {
        // Only beforeDecode and decode throw here: call() answers every error itself.
        answer = awsJsonErrorOf(toConnectError(e));
      }
      answer.rpc = rpcNames.get(method);
      return answer;
    },
  };
}

/** isAwsJson tells whether a Content-Type is AWS JSON 1.1 (parameters such as charset allowed). */
function isAwsJson(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const semi = contentType.indexOf(";");
  const type = (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  return type === AWS_JSON_CONTENT_TYPE;
}

/** decode reads the body as the input message; an empty body is `{}`. */
function decode(method: DescMethod, body: Uint8Array): Message {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw serialization("the request body is not UTF-8");
  }
  if (text.trim() === "") text = "{}";
  if (exceedsJsonDepth(text)) {
    throw serialization(`JSON nests deeper than ${maxJsonDepth} levels`);
  }
  let json: JsonValue;
  try {
    json = JSON.parse(text) as JsonValue;
  } catch {
    throw serialization("the request body is not valid JSON");
  }
  if (!isJsonObject(json)) {
    throw serialization("the request body must be a JSON object");
  }
  return messageFromJson(
    method.input,
    json,
    true,
    (message) => new ConnectError(message, Code.InvalidArgument),
  );
}

/** serialization is AWS's error for a body that is not a JSON object at all. */
function serialization(message: string): ConnectError {
  return new ConnectError(message, Code.InvalidArgument, {
    [awsExceptionHeader]: "SerializationException",
  });
}

/** toConnectError keeps a ConnectError; anything else says only "internal error". */
function toConnectError(e: unknown): ConnectError {
  if (e instanceof ConnectError) return e;
  return new ConnectError("internal error", Code.Internal);
}
