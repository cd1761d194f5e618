import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  IncorrectKeyException,
  ListKeysCommand,
  NotFoundException,
  UpdateAliasCommand,
} from "@aws-sdk/client-kms";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { describe, expect, it } from "vitest";
import { TrentService } from "../../gen/kms/aws/v1/trent_service_pb.js";
import { credentialsOf, useSeededAuthzGateway } from "../authz/authz-fixture.js";
import { sigv4Interceptor } from "../helpers/sigv4-headers.js";
import { expectAwsError } from "./expect-aws-error.js";
import { kmsClient } from "./kms-client.js";

// One identities file governs both APIs: the AWS KMS API checks the same actions
// (kms:GenerateDataKey, kms:Decrypt…) on the key a request really names, whether
// by id or by ARN, and decrypt on the key inside the ciphertext. `scoped` may
// describe, decrypt and generate data keys of keys app-* only.

const { gw, seeded } = useSeededAuthzGateway();
const as = (who: string) => kmsClient(gw.url, { credentials: credentialsOf(who) });
const arn = (id: string) => `arn:aws:kms:us-east-1:000000000000:key/${id}`;
const blob = (b64: string) => Buffer.from(b64, "base64");

describe("authorization through the AWS KMS API", () => {
  it("a scoped identity uses its key by id and by ARN, and nothing else", async () => {
    for (const KeyId of ["app-1", arn("app-1")]) {
      const out = await as("scoped").send(
        new GenerateDataKeyCommand({ KeyId, KeySpec: "AES_256" }),
      );
      expect(out.KeyId).toBe(arn("app-1"));
    }
    for (const KeyId of ["other", arn("other")]) {
      const err = await expectAwsError(
        as("scoped").send(new GenerateDataKeyCommand({ KeyId, KeySpec: "AES_256" })),
        "AccessDeniedException",
      );
      expect(err.$metadata.httpStatusCode).toBe(400);
      expect(err.message).toBe("access denied: the identity lacks permission for this call");
    }
  });

  it("decrypt is judged by the key inside the ciphertext", async () => {
    const { appBlob, otherBlob } = seeded();
    const ok = await as("scoped").send(
      new DecryptCommand({ CiphertextBlob: blob(appBlob), EncryptionContext: { bucket: "b" } }),
    );
    expect(ok.KeyId).toBe(arn("app-1"));
    await expectAwsError(
      as("scoped").send(
        new DecryptCommand({ CiphertextBlob: blob(otherBlob), EncryptionContext: { bucket: "b" } }),
      ),
      "AccessDeniedException",
    );
    // Naming an allowed key does not unlock another key's ciphertext.
    await expectAwsError(
      as("scoped").send(
        new DecryptCommand({
          CiphertextBlob: blob(otherBlob),
          EncryptionContext: { bucket: "b" },
          KeyId: "app-1",
        }),
      ),
      "AccessDeniedException",
    );
    await expectAwsError(
      as("scoped").send(
        new DecryptCommand({
          CiphertextBlob: blob(appBlob),
          EncryptionContext: { bucket: "b" },
          KeyId: "app-2",
        }),
      ),
      IncorrectKeyException,
    );
  });

  it("an action the identity never holds is refused before the request is read", async () => {
    await expectAwsError(
      as("scoped").send(new EncryptCommand({ KeyId: "app-1", Plaintext: Buffer.from("x") })),
      "AccessDeniedException",
    );
    await expectAwsError(as("scoped").send(new ListKeysCommand({})), "AccessDeniedException");
    await expectAwsError(as("scoped").send(new CreateKeyCommand({})), "AccessDeniedException");
  });

  it("over gRPC, a refusal carries the same AWS exception name", async () => {
    const grpc = createClient(
      TrentService,
      createGrpcTransport({
        baseUrl: gw.url,
        interceptors: [sigv4Interceptor(credentialsOf("scoped"))],
      }),
    );
    for (const call of [
      grpc.encrypt({ keyId: "app-1", plaintext: Buffer.from("x") }),
      grpc.generateDataKey({ keyId: "other", keySpec: "AES_256" }),
    ]) {
      const err = await call.then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
      expect(err?.code).toBe(Code.PermissionDenied);
      expect(err?.metadata.get("kms-error-code")).toBe("AccessDeniedException");
    }
  });

  it("a missing key inside the scope is NotFoundException; outside it, AccessDeniedException", async () => {
    await expectAwsError(
      as("scoped").send(new DescribeKeyCommand({ KeyId: "app-missing" })),
      NotFoundException,
    );
    await expectAwsError(
      as("scoped").send(new DescribeKeyCommand({ KeyId: "missing" })),
      "AccessDeniedException",
    );
    // A name that resolves to no key is judged as naming none: only unscoped statements allow it.
    await expectAwsError(
      as("scoped").send(
        new DescribeKeyCommand({ KeyId: "arn:aws:kms:us-east-1:111122223333:key/app-1" }),
      ),
      "AccessDeniedException",
    );
    await expectAwsError(
      as("key-admin").send(
        new DescribeKeyCommand({ KeyId: "arn:aws:kms:us-east-1:111122223333:key/app-1" }),
      ),
      NotFoundException,
    );
  });

  it("an alias is judged by the key it names", async () => {
    const root = kmsClient(gw.url);
    await root.send(new CreateAliasCommand({ AliasName: "alias/mine", TargetKeyId: "app-1" }));
    await root.send(new CreateAliasCommand({ AliasName: "alias/theirs", TargetKeyId: "other" }));
    for (const KeyId of ["alias/mine", "arn:aws:kms:us-east-1:000000000000:alias/mine"]) {
      const out = await as("scoped").send(
        new GenerateDataKeyCommand({ KeyId, KeySpec: "AES_256" }),
      );
      expect(out.KeyId).toBe(arn("app-1"));
    }
    await expectAwsError(
      as("scoped").send(new GenerateDataKeyCommand({ KeyId: "alias/theirs", KeySpec: "AES_256" })),
      "AccessDeniedException",
    );
    // An alias that names no key tells a scoped identity nothing.
    await expectAwsError(
      as("scoped").send(new GenerateDataKeyCommand({ KeyId: "alias/none", KeySpec: "AES_256" })),
      "AccessDeniedException",
    );
    // Moving an alias needs the action on both keys: key-admin may, scoped may not alias at all.
    await expectAwsError(
      as("scoped").send(new UpdateAliasCommand({ AliasName: "alias/mine", TargetKeyId: "other" })),
      "AccessDeniedException",
    );
  });

  it("the canned KMSKeyUser policy works the same over both APIs", async () => {
    const out = await as("key-user").send(
      new GenerateDataKeyCommand({ KeyId: "app-1", KeySpec: "AES_128" }),
    );
    expect(out.Plaintext?.byteLength).toBe(16);
    await expectAwsError(
      as("key-user").send(new GenerateDataKeyCommand({ KeyId: "other", KeySpec: "AES_128" })),
      "AccessDeniedException",
    );
  });
});
