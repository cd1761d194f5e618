import { create } from "@bufbuild/protobuf";
import { createContextValues } from "@connectrpc/connect";
import {
  GenerateDataKeyResponseSchema,
  KmsAdminService,
} from "../../gen/kms/admin/v1/service_pb.js";
import { compileRoutes } from "../../src/rest/compile-routes.js";
import { createRestTranscoder } from "../../src/rest/index.js";
import { compileRestJsonWriter, writeRestJson } from "../../src/rest/json-writer.js";
import { decodeRequest } from "../../src/rest/request-decoder.js";
import { createRouteMatcher } from "../../src/rest/route-matcher.js";
import { createLazyRestRequest } from "../../src/server/lazy-rest-request.js";
import { fixedDataKey } from "../baselines/fixed-responses.js";
import type { MicroBench } from "./micro-bench.js";

const GENERATE = "/rustfs/admin/v3/kms/generate-data-key";
const DESCRIBE = "/rustfs/admin/v3/kms/keys/bench-000000";

/**
 * restMicro times the REST transcoder's pieces on generate-data-key: route
 * matching (a literal path and one with a path variable), request decoding,
 * response encoding (the compiled writer the transcoder uses, and the reflective
 * reference it must agree with), and the whole transcoder with a handler that answers a
 * fixed data key (the REST plumbing without HTTP, SigV4 or the engine).
 */
export async function restMicro(): Promise<MicroBench[]> {
  const matcher = createRouteMatcher(compileRoutes(KmsAdminService));
  const found = matcher.match("POST", GENERATE);
  if (found.kind !== "found") throw new Error("rest micro-benchmark: generate-data-key not routed");
  const body = new TextEncoder().encode(JSON.stringify({ key_id: "bench-000000" }));
  const response = create(GenerateDataKeyResponseSchema, fixedDataKey);
  const utf8 = new TextEncoder();
  const writeCompiled = compileRestJsonWriter(GenerateDataKeyResponseSchema);
  const expectedLength = JSON.stringify(
    writeRestJson(GenerateDataKeyResponseSchema, response),
  ).length;
  const transcoder = createRestTranscoder({
    service: KmsAdminService,
    implementation: { generateDataKey: () => fixedDataKey },
  });
  const headers = new Headers({ host: "127.0.0.1:9000", "content-type": "application/json" });
  const expectFound = (method: string, path: string) => () => {
    if (matcher.match(method, path).kind !== "found") throw new Error(`no route for ${path}`);
  };
  return [
    {
      name: "route match, literal path (generate-data-key)",
      targetUs: 0.5,
      fn: expectFound("POST", GENERATE),
    },
    {
      name: "route match, path variable (describe)",
      targetUs: 0.5,
      fn: expectFound("GET", DESCRIBE),
    },
    {
      name: "request decode (generate-data-key JSON)",
      fn: () => decodeRequest(found.route, found.captures, "", body),
    },
    {
      name: "response encode, compiled writer (generate-data-key JSON)",
      fn: () => {
        if (writeCompiled(response).length !== expectedLength) throw new Error("wrong JSON");
      },
    },
    {
      name: "response encode, reflective writeRestJson (reference)",
      fn: () => utf8.encode(JSON.stringify(writeRestJson(GenerateDataKeyResponseSchema, response))),
    },
    {
      name: "REST transcoder round trip (no-op handler)",
      fn: async () => {
        // The request as the edge builds it: headers and signal only if read.
        const answer = await transcoder.handle(
          createLazyRestRequest({
            method: "POST",
            rawPath: GENERATE,
            rawQuery: "",
            headers: () => headers,
            body,
            contextValues: createContextValues(),
          }),
        );
        if (answer.status !== 200) throw new Error(`transcoder answered ${answer.status}`);
      },
    },
  ];
}
