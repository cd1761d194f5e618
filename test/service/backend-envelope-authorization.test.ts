import { create } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  createContextValues,
  createHandlerContext,
  type HandlerContext,
} from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { KmsAdminService } from "../../gen/kms/admin/v1/service_pb.js";
import { sealBackendEnvelope } from "../../src/engine/backend-envelope.js";
import type { KmsEngine } from "../../src/engine/types.js";
import { callerKey } from "../../src/service/caller.js";
import { createKmsAdminService } from "../../src/service/kms-admin-service.js";
import { rootCaller } from "../helpers/root-caller.js";

// Decrypt and re-encrypt are authorized against the key named inside the
// ciphertext. A Vault-backed gateway writes the backend-custody envelope
// (format 0x03), so the service must read that header too: a scoped caller
// would otherwise be judged on no key at all.

/** contextFor is a handler context whose caller may act only on the keys `allowed` lists. */
function contextFor(
  method: "decrypt" | "reEncrypt",
  allowed: readonly string[],
  seen: string[][],
): HandlerContext {
  const contextValues = createContextValues();
  contextValues.set(callerKey, {
    ...rootCaller(),
    allows: (_action: string, keyIds: readonly string[]) => {
      seen.push([...keyIds]);
      return keyIds.length > 0 && keyIds.every((id) => allowed.includes(id));
    },
  });
  return createHandlerContext({
    service: KmsAdminService,
    method: KmsAdminService.method[method],
    protocolName: "test",
    requestMethod: "POST",
    url: "http://test/",
    contextValues,
  });
}

const engine = {
  decrypt: async () => ({ plaintext: new Uint8Array(32) }),
  reEncrypt: async () => ({
    ciphertextBlob: sealBackendEnvelope("app-2", 1, Buffer.from("vault:v1:eA==")),
  }),
} as unknown as KmsEngine;

const vaultBlob = sealBackendEnvelope("app-1", 3, Buffer.from("vault:v3:c2VjcmV0", "latin1"));

describe("authorization of backend-custody (Vault) ciphertexts", () => {
  it("decrypt is judged on the key inside a format-0x03 envelope", async () => {
    const seen: string[][] = [];
    const service = createKmsAdminService(engine);
    await service.decrypt(
      create(KmsAdminService.method.decrypt.input, { ciphertextBlob: vaultBlob }),
      contextFor("decrypt", ["app-1"], seen),
    );
    expect(seen).toEqual([["app-1"]]);
  });

  it("a caller scoped to other keys is refused", async () => {
    const seen: string[][] = [];
    const service = createKmsAdminService(engine);
    const err = await Promise.resolve(
      service.decrypt(
        create(KmsAdminService.method.decrypt.input, { ciphertextBlob: vaultBlob }),
        contextFor("decrypt", ["other"], seen),
      ),
    ).then(
      () => null,
      (e: unknown) => ConnectError.from(e),
    );
    expect(err?.code).toBe(Code.PermissionDenied);
    expect(seen).toEqual([["app-1"]]);
  });

  it("re-encrypt needs the source key inside the envelope and the destination", async () => {
    const seen: string[][] = [];
    const service = createKmsAdminService(engine);
    await service.reEncrypt(
      create(KmsAdminService.method.reEncrypt.input, {
        ciphertextBlob: vaultBlob,
        destinationKeyId: "app-2",
      }),
      contextFor("reEncrypt", ["app-1", "app-2"], seen),
    );
    expect(seen).toEqual([["app-1", "app-2"]]);
  });
});
