import type { Message } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { KmsAdminService } from "../../gen/kms/admin/v1/service_pb.js";

/** RecordedCall is one call the fake implementation received. */
export interface RecordedCall {
  method: string;
  request: Message;
  context: HandlerContext;
}

type Impl = Partial<ServiceImpl<typeof KmsAdminService>>;

/**
 * fakeImplementation returns a plain-object KmsAdminService implementation
 * (no engine) that records every request message and context it gets, with
 * canned answers; `overrides` replace individual methods.
 */
export function fakeImplementation(overrides: Impl = {}): { impl: Impl; calls: RecordedCall[] } {
  const calls: RecordedCall[] = [];
  const metadata = {
    keyId: "k1",
    enabled: true,
    keyUsage: "ENCRYPT_DECRYPT",
    keyState: "Enabled",
    keySpec: "AES_256",
  };
  const base: Impl = {
    getStatus: () => ({ status: "NotConfigured" }),
    getConfig: () => ({ cacheEnabled: true, cacheMaxKeys: 1024, cacheTtlSeconds: 300 }),
    clearCache: () => ({}),
    createKey: () => ({ keyId: "k1", keyMetadata: metadata }),
    listKeys: () => ({ keys: [{ keyId: "k1", keyState: "Enabled" }], truncated: false }),
    describeKey: (req) => ({ keyMetadata: { ...metadata, keyId: req.keyId } }),
    scheduleKeyDeletion: (req) => ({ keyMetadata: { ...metadata, keyId: req.keyId } }),
    cancelKeyDeletion: (req) => ({ keyMetadata: { ...metadata, keyId: req.keyId } }),
    configure: () => ({
      success: true,
      message: "KMS configured successfully",
      status: "Configured",
    }),
    generateDataKey: (req) => ({
      keyId: req.keyId ?? "default",
      plaintextKey: new Uint8Array([0xfb, 0xff]),
      ciphertextBlob: new Uint8Array([1, 2, 3]),
    }),
    decrypt: () => ({ keyId: "k1", plaintextKey: new Uint8Array([1]) }),
    ...overrides,
  };
  const impl: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(base)) {
    impl[name] = (request: Message, context: HandlerContext) => {
      calls.push({ method: name, request, context });
      return (fn as (r: Message, c: HandlerContext) => unknown)(request, context);
    };
  }
  return { impl: impl as Impl, calls };
}
