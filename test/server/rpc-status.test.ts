import { Code, ConnectError } from "@connectrpc/connect";
import type { UniversalServerResponse } from "@connectrpc/connect/protocol";
import { describe, expect, it } from "vitest";
import { requestIdOf } from "../../src/server/request-id.js";
import {
  codeNameOfHttpStatus,
  observeRpcStatus,
  type RpcProtocol,
  rpcErrorResponse,
  rpcProtocolOf,
} from "../../src/server/rpc-status.js";

/** drain writes a response's body as an adapter would and returns the code observed. */
async function observed(protocol: RpcProtocol, response: UniversalServerResponse) {
  let code: string | undefined;
  const watched = observeRpcStatus(protocol, response, (c) => {
    code = c;
  });
  for await (const _ of watched.body ?? []) {
    // written
  }
  return code;
}

const unauthenticated = new ConnectError("authentication required", Code.Unauthenticated);

describe("rpcErrorResponse and observeRpcStatus agree for every protocol", () => {
  it.each([
    ["application/grpc", "grpc"],
    ["application/grpc+proto", "grpc"],
    ["application/grpc-web+proto", "grpc-web"],
    ["application/connect+json", "connect"],
    ["application/json", "connect"],
    ["application/proto", "connect"],
  ] as const)("%s", async (contentType, protocol) => {
    expect(rpcProtocolOf(contentType)).toBe(protocol);
    const response = rpcErrorResponse(contentType, unauthenticated);
    expect(await observed(protocol, response)).toBe("unauthenticated");
  });

  it("answers a Connect unary call with the JSON error and its HTTP status", async () => {
    const response = rpcErrorResponse("application/json", unauthenticated);
    expect(response.status).toBe(401);
    const chunks: Uint8Array[] = [];
    for await (const chunk of response.body ?? []) chunks.push(chunk);
    expect(JSON.parse(Buffer.concat(chunks).toString())).toEqual({
      code: "unauthenticated",
      message: "authentication required",
    });
  });

  it("reports ok for a gRPC response whose trailer says 0", async () => {
    async function* body() {
      yield new Uint8Array([0, 0, 0, 0, 0]);
    }
    const trailer = new Headers({ "grpc-status": "0" });
    expect(await observed("grpc", { status: 200, body: body(), trailer })).toBe("ok");
  });
});

describe("codeNameOfHttpStatus", () => {
  it("names the codes the REST answers stand for", () => {
    expect(codeNameOfHttpStatus(200)).toBe("ok");
    expect(codeNameOfHttpStatus(204)).toBe("ok");
    expect(codeNameOfHttpStatus(400)).toBe("invalid_argument");
    expect(codeNameOfHttpStatus(408)).toBe("deadline_exceeded");
    expect(codeNameOfHttpStatus(503)).toBe("unavailable");
    expect(codeNameOfHttpStatus(500)).toBe("internal");
  });
});

describe("requestIdOf", () => {
  it("keeps a safe caller id and replaces anything else", () => {
    expect(requestIdOf("abc-123:x.y_z")).toBe("abc-123:x.y_z");
    for (const bad of [undefined, "", "a b", "x".repeat(129), ["a", "b"], 'q"uote']) {
      const id = requestIdOf(bad);
      expect(id).toMatch(/^[A-Za-z0-9_-]{16}$/);
    }
    expect(requestIdOf(undefined)).not.toBe(requestIdOf(undefined));
  });
});
