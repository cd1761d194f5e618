import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { createKmsAdminClient, type KmsAdminProtocol } from "../../src/client/index.js";
import { useGateway } from "../helpers/gateway-process.js";
import { testCredentials } from "../helpers/signed-fetch.js";

// The SDK against a real gateway process, on each protocol: typed calls, signed
// by the gateway's own signer, errors as ConnectError codes.

const gw = useGateway();
const credentials = {
  accessKey: testCredentials.accessKeyId,
  secretKey: testCredentials.secretAccessKey,
};

async function codeOf(call: Promise<unknown>): Promise<Code | undefined> {
  try {
    await call;
    return undefined;
  } catch (error) {
    return ConnectError.from(error).code;
  }
}

describe.each<KmsAdminProtocol>(["connect", "grpc", "grpc-web"])(
  "createKmsAdminClient over %s",
  (protocol) => {
    it("creates a key, generates a data key, decrypts it, describes and lists", async () => {
      const kms = createKmsAdminClient({ endpoint: gw.url, credentials, protocol });
      const name = `sdk-${protocol}`;
      const created = await kms.createKey({ tags: { name } });
      expect(created.keyMetadata?.keyId).toBe(name);
      const context = { bucket: "b1", object: "o/1" };
      const dataKey = await kms.generateDataKey({ keyId: name, encryptionContext: context });
      expect(dataKey.plaintextKey).toHaveLength(32);
      const decrypted = await kms.decrypt({
        ciphertextBlob: dataKey.ciphertextBlob,
        encryptionContext: context,
      });
      expect(Buffer.from(decrypted.plaintextKey).equals(Buffer.from(dataKey.plaintextKey))).toBe(
        true,
      );
      expect((await kms.describeKey({ keyId: name })).keyMetadata?.keyState).toBe("Enabled");
      expect((await kms.listKeys({})).keys.map((k) => k.keyId)).toContain(name);
    });

    it("maps errors to codes: an unknown key is NotFound, a wrong secret Unauthenticated", async () => {
      const kms = createKmsAdminClient({ endpoint: gw.url, credentials, protocol });
      expect(await codeOf(kms.describeKey({ keyId: "no-such-key" }))).toBe(Code.NotFound);
      const wrong = createKmsAdminClient({
        endpoint: gw.url,
        credentials: { ...credentials, secretKey: "not-the-secret" },
        protocol,
      });
      expect(await codeOf(wrong.getStatus({}))).toBe(Code.Unauthenticated);
    });
  },
);
