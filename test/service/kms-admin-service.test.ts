import { create, fromJson } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  createContextValues,
  createHandlerContext,
  type HandlerContext,
} from "@connectrpc/connect";
import { describe, expect, it, vi } from "vitest";
import {
  KmsAdminService,
  type KmsAdminService as KmsAdminServiceType,
} from "../../gen/kms/admin/v1/service_pb.js";
import { KmsConfigSchema } from "../../gen/kms/admin/v1/types_pb.js";
import { KmsError } from "../../src/engine/errors.js";
import type { KmsEngine, StatusView } from "../../src/engine/types.js";
import { callerKey } from "../../src/service/caller.js";
import { configPatchFromMessage } from "../../src/service/from-messages.js";
import { createKmsAdminService } from "../../src/service/kms-admin-service.js";

// The service layer against a fake engine: authentication from the context,
// the one error mapping, and the conversions.

function context(
  method: keyof typeof KmsAdminServiceType.method,
  authenticated = true,
): HandlerContext {
  const contextValues = createContextValues();
  if (authenticated) {
    contextValues.set(callerKey, { authenticated: true, name: "root" });
  }
  return createHandlerContext({
    service: KmsAdminService,
    method: KmsAdminService.method[method],
    protocolName: "test",
    requestMethod: "POST",
    url: "http://test/",
    contextValues,
  });
}

function fakeEngine(overrides: Partial<KmsEngine>): KmsEngine {
  return new Proxy(overrides as KmsEngine, {
    get: (target, name) =>
      (target as unknown as Record<string | symbol, unknown>)[name] ??
      (() => {
        throw new Error(`unexpected call ${String(name)}`);
      }),
  });
}

async function errorOf(promise: unknown): Promise<ConnectError> {
  try {
    await promise;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("expected a rejection");
}

describe("createKmsAdminService", () => {
  it("refuses a call with no authenticated caller, before touching the engine", async () => {
    const describeKey = vi.fn();
    const service = createKmsAdminService(fakeEngine({ describeKey }));
    const err = await errorOf(
      service.describeKey(
        create(KmsAdminService.method.describeKey.input, { keyId: "k" }),
        context("describeKey", false),
      ),
    );
    expect(err.code).toBe(Code.Unauthenticated);
    expect(err.metadata.get("kms-error-code")).toBe("AccessDenied");
    expect(describeKey).not.toHaveBeenCalled();
  });

  it.each([
    ["INVALID_ARGUMENT", Code.InvalidArgument, "InvalidRequest"],
    ["INVALID_CIPHERTEXT", Code.InvalidArgument, "InvalidCiphertext"],
    ["KEY_NOT_FOUND", Code.NotFound, "NotFound"],
    ["KEY_EXISTS", Code.AlreadyExists, "Conflict"],
    ["ALREADY_RUNNING", Code.FailedPrecondition, "Conflict"],
    ["NOT_CONFIGURED", Code.FailedPrecondition, "Conflict"],
    ["INVALID_KEY_STATE", Code.FailedPrecondition, "Conflict"],
    ["CONFIG_CONFLICT", Code.FailedPrecondition, "Conflict"],
    ["NOT_RUNNING", Code.Unavailable, "ServiceUnavailable"],
    ["BACKEND_ERROR", Code.Internal, "InternalError"],
  ] as const)("maps %s to %s / %s with the engine's message", async (kmsCode, code, restCode) => {
    const service = createKmsAdminService(
      fakeEngine({ describeKey: () => Promise.reject(new KmsError(kmsCode, "safe message")) }),
    );
    const err = await errorOf(
      service.describeKey(
        create(KmsAdminService.method.describeKey.input, { keyId: "k" }),
        context("describeKey"),
      ),
    );
    expect([err.code, err.metadata.get("kms-error-code"), err.rawMessage]).toEqual([
      code,
      restCode,
      "safe message",
    ]);
  });

  it("hides an unexpected error's message from the caller and logs its cause", async () => {
    const log = vi.fn();
    const secretish = new Error("ECONNREFUSED vault token s.SECRET");
    const service = createKmsAdminService(
      fakeEngine({ describeKey: () => Promise.reject(secretish) }),
      { log },
    );
    const err = await errorOf(
      service.describeKey(
        create(KmsAdminService.method.describeKey.input, { keyId: "k" }),
        context("describeKey"),
      ),
    );
    expect(err.code).toBe(Code.Internal);
    expect(err.rawMessage).toBe("internal error");
    expect(log).toHaveBeenCalledWith("error", "request failed", {
      method: "DescribeKey",
      cause: secretish,
    });
  });

  it("converts the status view, leaving absent values unset", async () => {
    const view: StatusView = {
      status: "Running",
      backendType: "local",
      healthy: true,
      configSummary: {
        backendType: "local",
        defaultKeyId: null,
        timeoutSeconds: 30,
        retryAttempts: 3,
        enableCache: true,
        cacheSummary: { maxKeys: 1024, ttlSeconds: 300, enableMetrics: false },
        backendSummary: { backendType: "local", keyDir: "/k", hasMasterKey: true },
      },
      cacheStats: { hits: 5, misses: 2, evictions: 1, entries: 3 },
    };
    const service = createKmsAdminService(fakeEngine({ status: () => Promise.resolve(view) }));
    const res = await service.getStatus(
      create(KmsAdminService.method.getStatus.input),
      context("getStatus"),
    );
    expect(res).toMatchObject({
      status: "Running",
      backendType: "local",
      configSummary: {
        defaultKeyId: undefined,
        backendSummary: { summary: { case: "local", value: { keyDir: "/k", hasMasterKey: true } } },
      },
      cacheStats: { hits: 5, misses: 2, evictions: 1, entries: 3 },
    });
  });
});

describe("configPatchFromMessage", () => {
  it("keeps only the fields present on the wire", () => {
    const patch = configPatchFromMessage(fromJson(KmsConfigSchema, { cache_ttl_seconds: 900 }));
    expect(patch).toEqual({ cacheTtlSeconds: 900 });
  });

  it.each([
    [{ token: "s.A" }, { token: "s.A" }],
    [{ Token: { token: "s.B" } }, { token: "s.B" }],
    [{ approle: { role_id: "r", secret_id: "s" } }, { approle: { roleId: "r", secretId: "s" } }],
    [
      { AppRole: { role_id: "r", secret_id: "s", mount: "m" } },
      { approle: { roleId: "r", secretId: "s", mount: "m" } },
    ],
  ])("reads the auth method %j", (json, expected) => {
    const patch = configPatchFromMessage(
      fromJson(KmsConfigSchema, { backend_type: "vault", auth_method: json }),
    );
    expect(patch.authMethod).toEqual(expected);
  });
});
