import { createRegistry, type DescExtension, type DescFile, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import * as v1 from "../../gen/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { indexSymbols } from "./reflection-symbols.js";

/** ReflectionServices are both reflection services with their implementations, for `router.service`. */
export type ReflectionServices = [
  readonly [typeof v1.ServerReflection, ServiceImpl<typeof v1.ServerReflection>],
  readonly [typeof v1alpha.ServerReflection, ServiceImpl<typeof v1alpha.ServerReflection>],
];

/** The request oneof, the same in v1 and v1alpha. */
type ReflectionRequest =
  | {
      case:
        | "fileByFilename"
        | "fileContainingSymbol"
        | "allExtensionNumbersOfType"
        | "listServices";
      value: string;
    }
  | { case: "fileContainingExtension"; value: { containingType: string; extensionNumber: number } }
  | { case: undefined; value?: undefined };

/** A stream request as the handler reads it, the same in v1 and v1alpha. */
interface ReflectionStreamRequest {
  host: string;
  messageRequest: ReflectionRequest;
}

/** The response oneof, the same in v1 and v1alpha. */
type ReflectionAnswer =
  | { case: "fileDescriptorResponse"; value: { fileDescriptorProto: Uint8Array[] } }
  | {
      case: "allExtensionNumbersResponse";
      value: { baseTypeName: string; extensionNumber: number[] };
    }
  | { case: "listServicesResponse"; value: { service: { name: string }[] } }
  | { case: "errorResponse"; value: { errorCode: number; errorMessage: string } };

const invalidArgument = 3;
const notFound = 5;

/**
 * createReflectionServices implements gRPC server reflection
 * (`grpc.reflection.v1` and `v1alpha`, one logic for both schemas) over
 * `files`, their transitive imports and the reflection files themselves. It
 * lists the services declared in `files` plus the reflection services, so pass
 * every file whose services the router serves (health included).
 */
export function createReflectionServices(files: DescFile[]): ReflectionServices {
  const answer = createReflectionAnswerer([
    ...files,
    v1.file_grpc_reflection_v1_reflection,
    v1alpha.file_grpc_reflection_v1alpha_reflection,
  ]);
  // One stream handler for both schemas: their messages have the same shape.
  async function* serverReflectionInfo<R extends ReflectionStreamRequest>(
    requests: AsyncIterable<R>,
  ) {
    const sent = new Set<string>();
    for await (const request of requests) {
      const messageResponse = answer(request.messageRequest, sent);
      yield { validHost: request.host, originalRequest: request, messageResponse };
    }
  }
  return [
    [v1.ServerReflection, { serverReflectionInfo }],
    [v1alpha.ServerReflection, { serverReflectionInfo }],
  ];
}

/**
 * createReflectionAnswerer indexes the files once and returns the function
 * answering one reflection request. `sent` holds the files already sent on
 * this stream: a requested file is always sent, its imports only once.
 */
function createReflectionAnswerer(roots: DescFile[]) {
  const files = new Map<string, DescFile>();
  const visit = (file: DescFile): void => {
    if (files.has(file.proto.name)) return;
    files.set(file.proto.name, file);
    file.dependencies.forEach(visit);
  };
  roots.forEach(visit);
  const registry = createRegistry(...files.values());
  const symbols = indexSymbols(files.values());
  const services = [...new Set(roots.flatMap((f) => f.services.map((s) => s.typeName)))].sort();
  const extensionsOf = new Map<string, DescExtension[]>();
  for (const desc of registry) {
    if (desc.kind !== "extension") continue;
    const list = extensionsOf.get(desc.extendee.typeName) ?? [];
    list.push(desc);
    extensionsOf.set(desc.extendee.typeName, list);
  }
  const encoded = new Map(
    [...files.values()].map((f) => [f, toBinary(FileDescriptorProtoSchema, f.proto)] as const),
  );

  const withImports = (file: DescFile, sent: Set<string>): ReflectionAnswer => {
    const out: Uint8Array[] = [];
    const queue = [file];
    for (let next = queue.shift(); next; next = queue.shift()) {
      if (out.length > 0 && sent.has(next.proto.name)) continue;
      sent.add(next.proto.name);
      out.push(encoded.get(next) ?? toBinary(FileDescriptorProtoSchema, next.proto));
      queue.push(...next.dependencies);
    }
    return { case: "fileDescriptorResponse", value: { fileDescriptorProto: out } };
  };

  return (request: ReflectionRequest, sent: Set<string>): ReflectionAnswer => {
    switch (request.case) {
      case "listServices":
        return {
          case: "listServicesResponse",
          value: { service: services.map((name) => ({ name })) },
        };
      case "fileByFilename": {
        const file = files.get(request.value);
        return file ? withImports(file, sent) : error(notFound, "file not found", request.value);
      }
      case "fileContainingSymbol": {
        const file = symbols.get(request.value);
        return file ? withImports(file, sent) : error(notFound, "symbol not found", request.value);
      }
      case "fileContainingExtension": {
        const { containingType, extensionNumber } = request.value;
        const message = registry.getMessage(containingType);
        const extension = message && registry.getExtensionFor(message, extensionNumber);
        return extension
          ? withImports(extension.file, sent)
          : error(notFound, "extension not found", `${containingType}(${extensionNumber})`);
      }
      case "allExtensionNumbersOfType": {
        if (!registry.getMessage(request.value)) {
          return error(notFound, "type not found", request.value);
        }
        const extensionNumber = (extensionsOf.get(request.value) ?? []).map((e) => e.number);
        return {
          case: "allExtensionNumbersResponse",
          value: { baseTypeName: request.value, extensionNumber },
        };
      }
      default:
        return error(invalidArgument, "empty reflection request", "");
    }
  };
}

/** error builds an error_response, quoting at most 200 characters of what the client asked for. */
function error(errorCode: number, message: string, subject: string): ReflectionAnswer {
  const quoted = subject.length > 200 ? `${subject.slice(0, 200)}…` : subject;
  return {
    case: "errorResponse",
    value: { errorCode, errorMessage: quoted ? `${message}: ${quoted}` : message },
  };
}
