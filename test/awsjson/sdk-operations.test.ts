import {
  CancelKeyDeletionCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisabledException,
  DisableKeyCommand,
  EnableKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  GenerateRandomCommand,
  IncorrectKeyException,
  InvalidCiphertextException,
  InvalidKeyUsageException,
  KMSInvalidStateException,
  ListKeysCommand,
  ListResourceTagsCommand,
  NotFoundException,
  ReEncryptCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
  UnsupportedOperationException,
  UntagResourceCommand,
  UpdateKeyDescriptionCommand,
} from "@aws-sdk/client-kms";
import { beforeAll, describe, expect, it } from "vitest";
import { useGateway } from "../helpers/gateway-process.js";
import { signedFetch } from "../helpers/signed-fetch.js";
import { expectAwsError } from "./expect-aws-error.js";
import { kmsClient } from "./kms-client.js";

// Every key and data operation of the AWS KMS API through AWS's own JavaScript client
// against a real gateway process: AWS's shapes, ARNs in the signing region, typed
// exceptions, pagination, and ciphertexts shared with the admin API.

const gw = useGateway();
const region = "eu-west-1";
const account = "000000000000";
const kms = () => kmsClient(gw.url, { region });
const arnOf = (id: string) => `arn:aws:kms:${region}:${account}:key/${id}`;
const text = (b: Uint8Array | undefined) => Buffer.from(b ?? []).toString();

async function createKey(name: string, description = "test key"): Promise<string> {
  const out = await kms().send(
    new CreateKeyCommand({ Description: description, Tags: [{ TagKey: "name", TagValue: name }] }),
  );
  return out.KeyMetadata?.KeyId as string;
}

describe("key management", () => {
  it("CreateKey answers AWS's KeyMetadata, with the ARN in the signing region", async () => {
    const before = Date.now();
    const out = await kms().send(
      new CreateKeyCommand({
        Description: "app key",
        KeyUsage: "ENCRYPT_DECRYPT",
        KeySpec: "SYMMETRIC_DEFAULT",
        Tags: [
          { TagKey: "name", TagValue: "sdk-app" },
          { TagKey: "team", TagValue: "storage" },
        ],
      }),
    );
    const meta = out.KeyMetadata;
    expect(meta).toMatchObject({
      AWSAccountId: account,
      KeyId: "sdk-app",
      Arn: arnOf("sdk-app"),
      Enabled: true,
      Description: "app key",
      KeyUsage: "ENCRYPT_DECRYPT",
      KeyState: "Enabled",
      Origin: "AWS_KMS",
      KeyManager: "CUSTOMER",
      KeySpec: "SYMMETRIC_DEFAULT",
      CustomerMasterKeySpec: "SYMMETRIC_DEFAULT",
      EncryptionAlgorithms: ["SYMMETRIC_DEFAULT"],
      MultiRegion: false,
    });
    // CreationDate arrives as epoch seconds, which the SDK turns into a Date.
    expect(meta?.CreationDate).toBeInstanceOf(Date);
    expect(meta?.CreationDate?.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(meta?.DeletionDate).toBeUndefined();
  });

  it("CreateKey refuses what this KMS does not do, with UnsupportedOperationException", async () => {
    await expectAwsError(
      kms().send(new CreateKeyCommand({ Policy: '{"Version":"2012-10-17"}' })),
      UnsupportedOperationException,
    );
    await expectAwsError(
      kms().send(new CreateKeyCommand({ KeySpec: "RSA_2048" })),
      UnsupportedOperationException,
    );
    await expectAwsError(
      kms().send(new CreateKeyCommand({ MultiRegion: true })),
      UnsupportedOperationException,
    );
  });

  it("DescribeKey finds a key by id and by ARN; another account, region or id is NotFoundException", async () => {
    const id = await createKey("sdk-describe");
    for (const KeyId of [id, arnOf(id)]) {
      const out = await kms().send(new DescribeKeyCommand({ KeyId }));
      expect(out.KeyMetadata?.KeyId).toBe(id);
    }
    for (const KeyId of [
      `arn:aws:kms:${region}:111122223333:key/${id}`,
      `arn:aws:kms:us-west-2:${account}:key/${id}`,
      "no-such-key",
      "not/a valid id",
    ]) {
      await expectAwsError(kms().send(new DescribeKeyCommand({ KeyId })), NotFoundException);
    }
    // An empty KeyId is a validation error, named without echoing anything.
    const err = await expectAwsError(
      kms().send(new DescribeKeyCommand({ KeyId: "" })),
      "ValidationException",
    );
    expect(err.message).toMatch(/KeyId is required/);
  });

  it("ListKeys pages with Limit, Truncated and NextMarker", async () => {
    for (const name of ["sdk-list-a", "sdk-list-b", "sdk-list-c"]) await createKey(name);
    const seen: string[] = [];
    let Marker: string | undefined;
    let pages = 0;
    do {
      const page = await kms().send(new ListKeysCommand({ Limit: 2, Marker }));
      pages++;
      expect(page.Keys?.length).toBeLessThanOrEqual(2);
      for (const k of page.Keys ?? []) {
        expect(k.KeyArn).toBe(arnOf(k.KeyId as string));
        seen.push(k.KeyId as string);
      }
      Marker = page.Truncated ? page.NextMarker : undefined;
      if (page.Truncated) expect(page.NextMarker).toBeTruthy();
    } while (Marker !== undefined && pages < 50);
    expect(seen).toEqual(expect.arrayContaining(["sdk-list-a", "sdk-list-b", "sdk-list-c"]));
    expect(new Set(seen).size).toBe(seen.length);
    expect(pages).toBeGreaterThan(1);
    await expectAwsError(kms().send(new ListKeysCommand({ Limit: 0 })), "ValidationException");
    await expectAwsError(kms().send(new ListKeysCommand({ Limit: 1001 })), "ValidationException");
  });

  it("DisableKey / EnableKey change the state; a disabled key refuses use with DisabledException", async () => {
    const id = await createKey("sdk-disable");
    await kms().send(new DisableKeyCommand({ KeyId: id }));
    const meta = (await kms().send(new DescribeKeyCommand({ KeyId: id }))).KeyMetadata;
    expect(meta).toMatchObject({ KeyState: "Disabled", Enabled: false });
    await expectAwsError(
      kms().send(new GenerateDataKeyCommand({ KeyId: id, KeySpec: "AES_256" })),
      DisabledException,
    );
    await kms().send(new EnableKeyCommand({ KeyId: arnOf(id) }));
    const out = await kms().send(new GenerateDataKeyCommand({ KeyId: id, KeySpec: "AES_256" }));
    expect(out.Plaintext?.byteLength).toBe(32);
  });

  it("UpdateKeyDescription replaces the description", async () => {
    const id = await createKey("sdk-describe-me", "old");
    await kms().send(new UpdateKeyDescriptionCommand({ KeyId: id, Description: "new words" }));
    const meta = (await kms().send(new DescribeKeyCommand({ KeyId: id }))).KeyMetadata;
    expect(meta?.Description).toBe("new words");
  });

  it("TagResource, UntagResource and ListResourceTags, paged by Limit", async () => {
    const id = await createKey("sdk-tags");
    await kms().send(
      new TagResourceCommand({
        KeyId: id,
        Tags: [
          { TagKey: "b", TagValue: "2" },
          { TagKey: "a", TagValue: "1" },
          { TagKey: "c", TagValue: "" },
        ],
      }),
    );
    await kms().send(new UntagResourceCommand({ KeyId: id, TagKeys: ["c"] }));
    const first = await kms().send(new ListResourceTagsCommand({ KeyId: id, Limit: 2 }));
    expect(first.Tags).toEqual([
      { TagKey: "a", TagValue: "1" },
      { TagKey: "b", TagValue: "2" },
    ]);
    expect(first.Truncated).toBe(true);
    const second = await kms().send(
      new ListResourceTagsCommand({ KeyId: id, Limit: 2, Marker: first.NextMarker }),
    );
    expect(second.Tags).toEqual([{ TagKey: "name", TagValue: "sdk-tags" }]);
    expect(second.Truncated).toBe(false);
    expect(second.NextMarker).toBeUndefined();
    await expectAwsError(
      kms().send(new TagResourceCommand({ KeyId: id, Tags: [{ TagKey: "", TagValue: "x" }] })),
      "ValidationException",
    );
  });

  it("ScheduleKeyDeletion answers the ARN, date and window; CancelKeyDeletion brings the key back", async () => {
    const id = await createKey("sdk-delete");
    const scheduled = await kms().send(
      new ScheduleKeyDeletionCommand({ KeyId: id, PendingWindowInDays: 7 }),
    );
    expect(scheduled).toMatchObject({
      KeyId: arnOf(id),
      KeyState: "PendingDeletion",
      PendingWindowInDays: 7,
    });
    const days = ((scheduled.DeletionDate?.getTime() ?? 0) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.9);
    expect(days).toBeLessThan(7.1);
    await expectAwsError(
      kms().send(new EncryptCommand({ KeyId: id, Plaintext: Buffer.from("x") })),
      KMSInvalidStateException,
    );
    const cancelled = await kms().send(new CancelKeyDeletionCommand({ KeyId: id }));
    expect(cancelled.KeyId).toBe(arnOf(id));
    await expectAwsError(
      kms().send(new ScheduleKeyDeletionCommand({ KeyId: id, PendingWindowInDays: 6 })),
      "ValidationException",
    );
    const defaulted = await kms().send(new ScheduleKeyDeletionCommand({ KeyId: id }));
    expect(defaulted.PendingWindowInDays).toBe(30);
  });
});

describe("cryptographic operations", () => {
  let keyA: string;
  let keyB: string;
  const context = { bucket: "photos", object: "cat.jpg" };
  beforeAll(async () => {
    keyA = await createKey("sdk-crypto-a");
    keyB = await createKey("sdk-crypto-b");
  });

  it("Encrypt and Decrypt, bound to the encryption context; Decrypt needs no KeyId", async () => {
    const enc = await kms().send(
      new EncryptCommand({
        KeyId: keyA,
        Plaintext: Buffer.from("attack at dawn"),
        EncryptionContext: context,
      }),
    );
    expect(enc.KeyId).toBe(arnOf(keyA));
    expect(enc.EncryptionAlgorithm).toBe("SYMMETRIC_DEFAULT");
    const dec = await kms().send(
      new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: context }),
    );
    expect(text(dec.Plaintext)).toBe("attack at dawn");
    expect(dec.KeyId).toBe(arnOf(keyA));
    const withKey = await kms().send(
      new DecryptCommand({
        CiphertextBlob: enc.CiphertextBlob,
        EncryptionContext: context,
        KeyId: arnOf(keyA),
      }),
    );
    expect(text(withKey.Plaintext)).toBe("attack at dawn");
    await expectAwsError(
      kms().send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: {} })),
      InvalidCiphertextException,
    );
    await expectAwsError(
      kms().send(
        new DecryptCommand({
          CiphertextBlob: enc.CiphertextBlob,
          EncryptionContext: context,
          KeyId: keyB,
        }),
      ),
      IncorrectKeyException,
    );
    await expectAwsError(
      kms().send(new DecryptCommand({ CiphertextBlob: Buffer.from("not a ciphertext") })),
      InvalidCiphertextException,
    );
  });

  it("Encrypt bounds Plaintext to 1-4096 bytes and knows only SYMMETRIC_DEFAULT", async () => {
    await expectAwsError(
      kms().send(new EncryptCommand({ KeyId: keyA, Plaintext: Buffer.alloc(4097) })),
      "ValidationException",
    );
    await expectAwsError(
      kms().send(
        new EncryptCommand({
          KeyId: keyA,
          Plaintext: Buffer.from("x"),
          EncryptionAlgorithm: "RSAES_OAEP_SHA_256",
        }),
      ),
      InvalidKeyUsageException,
    );
    await expectAwsError(
      kms().send(new EncryptCommand({ KeyId: keyA, Plaintext: Buffer.from("x"), DryRun: true })),
      UnsupportedOperationException,
    );
  });

  it("ReEncrypt moves a ciphertext to another key and context", async () => {
    const enc = await kms().send(
      new EncryptCommand({
        KeyId: keyA,
        Plaintext: Buffer.from("moving"),
        EncryptionContext: context,
      }),
    );
    const re = await kms().send(
      new ReEncryptCommand({
        CiphertextBlob: enc.CiphertextBlob,
        SourceEncryptionContext: context,
        DestinationKeyId: arnOf(keyB),
        DestinationEncryptionContext: { purpose: "moved" },
      }),
    );
    expect(re.SourceKeyId).toBe(arnOf(keyA));
    expect(re.KeyId).toBe(arnOf(keyB));
    const dec = await kms().send(
      new DecryptCommand({
        CiphertextBlob: re.CiphertextBlob,
        EncryptionContext: { purpose: "moved" },
      }),
    );
    expect(text(dec.Plaintext)).toBe("moving");
    expect(dec.KeyId).toBe(arnOf(keyB));
    await expectAwsError(
      kms().send(
        new ReEncryptCommand({
          CiphertextBlob: enc.CiphertextBlob,
          SourceEncryptionContext: context,
          SourceKeyId: keyB,
          DestinationKeyId: keyB,
        }),
      ),
      IncorrectKeyException,
    );
  });

  it("GenerateDataKey takes exactly one of KeySpec and NumberOfBytes", async () => {
    const aes256 = await kms().send(
      new GenerateDataKeyCommand({ KeyId: keyA, KeySpec: "AES_256", EncryptionContext: context }),
    );
    expect(aes256.Plaintext?.byteLength).toBe(32);
    expect(aes256.KeyId).toBe(arnOf(keyA));
    const aes128 = await kms().send(
      new GenerateDataKeyCommand({ KeyId: keyA, KeySpec: "AES_128" }),
    );
    expect(aes128.Plaintext?.byteLength).toBe(16);
    const dec = await kms().send(
      new DecryptCommand({ CiphertextBlob: aes256.CiphertextBlob, EncryptionContext: context }),
    );
    expect(Buffer.from(dec.Plaintext ?? [])).toEqual(Buffer.from(aes256.Plaintext ?? []));
    await expectAwsError(
      kms().send(
        new GenerateDataKeyCommand({ KeyId: keyA, KeySpec: "AES_256", NumberOfBytes: 32 }),
      ),
      "ValidationException",
    );
    await expectAwsError(
      kms().send(new GenerateDataKeyCommand({ KeyId: keyA })),
      "ValidationException",
    );
    await expectAwsError(
      kms().send(new GenerateDataKeyCommand({ KeyId: keyA, NumberOfBytes: 1025 })),
      "ValidationException",
    );
  });

  it("GenerateDataKeyWithoutPlaintext answers only the wrapped key", async () => {
    const out = await kms().send(
      new GenerateDataKeyWithoutPlaintextCommand({ KeyId: keyA, KeySpec: "AES_256" }),
    );
    expect(out).not.toHaveProperty("Plaintext");
    expect(out.KeyId).toBe(arnOf(keyA));
    const dec = await kms().send(new DecryptCommand({ CiphertextBlob: out.CiphertextBlob }));
    expect(dec.Plaintext?.byteLength).toBe(32);
  });

  it("GenerateRandom answers 1-1024 random bytes", async () => {
    const one = await kms().send(new GenerateRandomCommand({ NumberOfBytes: 1 }));
    expect(one.Plaintext?.byteLength).toBe(1);
    const a = await kms().send(new GenerateRandomCommand({ NumberOfBytes: 1024 }));
    const b = await kms().send(new GenerateRandomCommand({ NumberOfBytes: 1024 }));
    expect(a.Plaintext?.byteLength).toBe(1024);
    expect(Buffer.from(a.Plaintext ?? [])).not.toEqual(Buffer.from(b.Plaintext ?? []));
    for (const NumberOfBytes of [0, 1025, undefined]) {
      await expectAwsError(
        kms().send(new GenerateRandomCommand({ NumberOfBytes })),
        "ValidationException",
      );
    }
  });
});

describe("one envelope for both APIs", () => {
  const api = "/rustfs/admin/v3/kms";

  it("a data key generated through the AWS API decrypts through the admin API, and back", async () => {
    const id = await createKey("sdk-cross");
    const context = { tenant: "t1" };
    const aws = await kms().send(
      new GenerateDataKeyCommand({ KeyId: id, KeySpec: "AES_256", EncryptionContext: context }),
    );
    const admin = await signedFetch(gw.url, "POST", `${api}/decrypt`, {
      body: JSON.stringify({
        ciphertext_blob: Buffer.from(aws.CiphertextBlob ?? []).toString("base64"),
        encryption_context: context,
      }),
    });
    expect(admin.status).toBe(200);
    const adminJson = admin.json as { plaintext_key: string; key_id: string };
    expect(adminJson.key_id).toBe(id);
    expect(Buffer.from(adminJson.plaintext_key, "base64")).toEqual(
      Buffer.from(aws.Plaintext ?? []),
    );

    const made = await signedFetch(gw.url, "POST", `${api}/generate-data-key`, {
      body: JSON.stringify({ key_id: id, key_spec: "AES_256", encryption_context: context }),
    });
    expect(made.status).toBe(200);
    const madeJson = made.json as { plaintext_key: string; ciphertext_blob: string };
    const back = await kms().send(
      new DecryptCommand({
        CiphertextBlob: Buffer.from(madeJson.ciphertext_blob, "base64"),
        EncryptionContext: context,
      }),
    );
    expect(Buffer.from(back.Plaintext ?? [])).toEqual(
      Buffer.from(madeJson.plaintext_key, "base64"),
    );
    expect(back.KeyId).toBe(arnOf(id));
  });
});
