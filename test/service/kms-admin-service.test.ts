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
import { rootCaller } from "../helpers/root-caller.js";

// The service layer against a fake engine: authentication from the context,
// the one error mapping, and the conversions.

function context(
  method: keyof typeof KmsAdminServiceType.method,
  authenticated = true,
): HandlerContext {
  const contextValues = createContextValues();
  if (authenticated) {
    contextValues.set(callerKey, rootCaller());
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

describe("the key lifecycle handlers", () => {
  const meta = {
    keyId: "k",
    description: null,
    keyState: "Disabled" as const,
    keyUsage: "ENCRYPT_DECRYPT" as const,
    keySpec: "AES_256" as const,
    creationDate: new Date("2025-01-01T00:00:00Z"),
    deletionDate: null,
    rotationEnabled: false,
    tags: { name: "k" },
    keyVersion: 3,
    rotationDate: new Date("2025-02-01T00:00:00Z"),
  };

  it("pass each request's fields to the engine and answer {key_metadata}", async () => {
    const calls: unknown[][] = [];
    const record =
      (name: string) =>
      async (...args: unknown[]) => {
        calls.push([name, ...args]);
        return meta;
      };
    const service = createKmsAdminService(
      fakeEngine({
        enableKey: record("enableKey"),
        disableKey: record("disableKey"),
        rotateKey: record("rotateKey"),
        updateKeyDescription: record("updateKeyDescription"),
        tagKey: record("tagKey"),
        untagKey: record("untagKey"),
      }),
    );
    const m = KmsAdminService.method;
    const answers = [
      await service.enableKey(create(m.enableKey.input, { keyId: "k" }), context("enableKey")),
      await service.disableKey(create(m.disableKey.input, { keyId: "k" }), context("disableKey")),
      await service.rotateKey(create(m.rotateKey.input, { keyId: "k" }), context("rotateKey")),
      await service.updateKeyDescription(
        create(m.updateKeyDescription.input, { keyId: "k", description: "d" }),
        context("updateKeyDescription"),
      ),
      await service.tagKey(
        create(m.tagKey.input, { keyId: "k", tags: { a: "1" } }),
        context("tagKey"),
      ),
      await service.untagKey(
        create(m.untagKey.input, { keyId: "k", tagKeys: ["a"] }),
        context("untagKey"),
      ),
    ];
    expect(calls).toEqual([
      ["enableKey", "k"],
      ["disableKey", "k"],
      ["rotateKey", "k"],
      ["updateKeyDescription", "k", "d"],
      ["tagKey", "k", { a: "1" }],
      ["untagKey", "k", ["a"]],
    ]);
    for (const answer of answers) {
      expect(answer).toMatchObject({
        keyMetadata: {
          keyId: "k",
          enabled: false,
          keyState: "Disabled",
          keyVersion: 3,
          rotationDate: { seconds: BigInt(Date.parse("2025-02-01T00:00:00Z") / 1000) },
        },
      });
    }
  });

  it("pass an absent description as undefined, so the engine can require it", async () => {
    const updateKeyDescription = vi.fn(async () => meta);
    const service = createKmsAdminService(fakeEngine({ updateKeyDescription }));
    await service.updateKeyDescription(
      create(KmsAdminService.method.updateKeyDescription.input, { keyId: "k" }),
      context("updateKeyDescription"),
    );
    expect(updateKeyDescription).toHaveBeenCalledWith("k", undefined);
  });

  it("pass encrypt, re-encrypt and wrapped-only data key requests through", async () => {
    const blob = new Uint8Array([1, 2, 3]);
    const encrypt = vi.fn(async () => ({ keyId: "k", ciphertextBlob: blob }));
    const reEncrypt = vi.fn(async () => ({ keyId: "o", sourceKeyId: "k", ciphertextBlob: blob }));
    const generateDataKeyWithoutPlaintext = vi.fn(async () => ({
      keyId: "k",
      ciphertextBlob: blob,
    }));
    const service = createKmsAdminService(
      fakeEngine({
        encrypt,
        reEncrypt,
        generateDataKeyWithoutPlaintext,
        // Read for authorization: a wrap without key_id uses the default key.
        config: () => ({ ...({} as ReturnType<KmsEngine["config"]>), defaultKeyId: "k" }),
      }),
    );
    const m = KmsAdminService.method;
    expect(
      await service.encrypt(
        create(m.encrypt.input, { keyId: "k", plaintext: blob, encryptionContext: { a: "1" } }),
        context("encrypt"),
      ),
    ).toEqual({ keyId: "k", ciphertextBlob: blob });
    expect(encrypt).toHaveBeenCalledWith({
      keyId: "k",
      plaintext: blob,
      encryptionContext: { a: "1" },
    });
    expect(
      await service.reEncrypt(
        create(m.reEncrypt.input, {
          ciphertextBlob: blob,
          destinationKeyId: "o",
          destinationEncryptionContext: { b: "2" },
        }),
        context("reEncrypt"),
      ),
    ).toEqual({ keyId: "o", sourceKeyId: "k", ciphertextBlob: blob });
    expect(reEncrypt).toHaveBeenCalledWith({
      ciphertextBlob: blob,
      encryptionContext: {},
      destinationKeyId: "o",
      destinationEncryptionContext: { b: "2" },
    });
    await service.generateDataKeyWithoutPlaintext(
      create(m.generateDataKeyWithoutPlaintext.input, { keySpec: "AES_128" }),
      context("generateDataKeyWithoutPlaintext"),
    );
    expect(generateDataKeyWithoutPlaintext).toHaveBeenCalledWith({
      keyId: undefined,
      keySpec: "AES_128",
      encryptionContext: {},
    });
  });
});
