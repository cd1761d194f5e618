import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import {
  errorBody,
  restErrorCodeFromCode,
  restErrorCodeHeader,
  restErrorCodes,
} from "../../src/rest/error-body.js";
import { httpStatusFromCode } from "../../src/rest/http-status.js";

const allCodes = Object.values(Code).filter((v): v is Code => typeof v === "number");

describe("the REST error catalogue", () => {
  it("is exactly the contract's §4 list", () => {
    expect([...restErrorCodes].sort()).toEqual(
      [
        "AccessDenied",
        "Conflict",
        "InternalError",
        "InvalidCiphertext",
        "InvalidRequest",
        "MethodNotAllowed",
        "NotFound",
        "ServiceUnavailable",
      ].sort(),
    );
  });

  it("has every code reachable: derived from a Connect code, or named by the service, or 405", () => {
    const derived = new Set(allCodes.map(restErrorCodeFromCode));
    const reachable = new Set([...derived, "InvalidCiphertext", "MethodNotAllowed"]);
    expect([...reachable].sort()).toEqual([...restErrorCodes].sort());
  });

  it("gives every Connect code an error status", () => {
    expect(allCodes).toHaveLength(16);
    for (const code of allCodes) {
      const status = httpStatusFromCode(code);
      expect(status, Code[code]).toBeGreaterThanOrEqual(400);
      expect(status, Code[code]).toBeLessThan(600);
    }
  });
});

describe("errorBody", () => {
  it("uses the raw message, without the [code] prefix", () => {
    const err = new ConnectError("key not found: k1", Code.NotFound);
    expect(err.message).toBe("[not_found] key not found: k1");
    expect(errorBody(err)).toStrictEqual({ code: "NotFound", message: "key not found: k1" });
  });

  it("prefers a catalogued kms-error-code", () => {
    const err = new ConnectError("bad", Code.InvalidArgument, {
      [restErrorCodeHeader]: "InvalidCiphertext",
    });
    expect(errorBody(err).code).toBe("InvalidCiphertext");
    const odd = new ConnectError("bad", Code.InvalidArgument, { [restErrorCodeHeader]: "Teapot" });
    expect(errorBody(odd).code).toBe("InvalidRequest");
  });
});
