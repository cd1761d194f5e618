import {
  AlreadyExistsException,
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DeleteAliasCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  IncorrectKeyException,
  KMSInvalidStateException,
  ListAliasesCommand,
  NotFoundException,
  ScheduleKeyDeletionCommand,
  UpdateAliasCommand,
} from "@aws-sdk/client-kms";
import { beforeAll, describe, expect, it } from "vitest";
import { useGateway } from "../helpers/gateway-process.js";
import { signedFetch } from "../helpers/signed-fetch.js";
import { expectAwsError } from "./expect-aws-error.js";
import { kmsClient } from "./kms-client.js";

// Aliases through AWS's own client: a key named by `alias/<name>` or the alias ARN in
// every operation that takes a KeyId, and CreateAlias / UpdateAlias / DeleteAlias /
// ListAliases with AWS's shapes, errors and pagination.

const gw = useGateway();
const region = "ap-south-1";
const kms = () => kmsClient(gw.url, { region });
const keyArn = (id: string) => `arn:aws:kms:${region}:000000000000:key/${id}`;
const aliasArn = (name: string) => `arn:aws:kms:${region}:000000000000:${name}`;

async function createKey(name: string): Promise<string> {
  const out = await kms().send(
    new CreateKeyCommand({ Tags: [{ TagKey: "name", TagValue: name }] }),
  );
  return out.KeyMetadata?.KeyId as string;
}

describe("aliases", () => {
  let app: string;
  let other: string;
  beforeAll(async () => {
    app = await createKey("alias-app");
    other = await createKey("alias-other");
    await kms().send(new CreateAliasCommand({ AliasName: "alias/app", TargetKeyId: app }));
  });

  it("name a key in every KeyId, as alias/<name> or as the alias ARN", async () => {
    for (const KeyId of ["alias/app", aliasArn("alias/app")]) {
      const described = await kms().send(new DescribeKeyCommand({ KeyId }));
      expect(described.KeyMetadata?.Arn).toBe(keyArn(app));
      const dataKey = await kms().send(new GenerateDataKeyCommand({ KeyId, KeySpec: "AES_256" }));
      expect(dataKey.KeyId).toBe(keyArn(app));
      const dec = await kms().send(
        new DecryptCommand({ CiphertextBlob: dataKey.CiphertextBlob, KeyId }),
      );
      expect(Buffer.from(dec.Plaintext ?? [])).toEqual(Buffer.from(dataKey.Plaintext ?? []));
    }
  });

  it("CreateAlias refuses a duplicate, an unknown key, an alias as target, and reserved names", async () => {
    await expectAwsError(
      kms().send(new CreateAliasCommand({ AliasName: "alias/app", TargetKeyId: other })),
      AlreadyExistsException,
    );
    await expectAwsError(
      kms().send(new CreateAliasCommand({ AliasName: "alias/x1", TargetKeyId: "no-such-key" })),
      NotFoundException,
    );
    await expectAwsError(
      kms().send(new CreateAliasCommand({ AliasName: "alias/x2", TargetKeyId: "alias/app" })),
      "ValidationException",
    );
    for (const AliasName of ["alias/aws/mine", "app", "alias/", "alias/sp ace"]) {
      await expectAwsError(
        kms().send(new CreateAliasCommand({ AliasName, TargetKeyId: app })),
        "ValidationException",
      );
    }
  });

  it("CreateAlias accepts the target's ARN, and refuses a key pending deletion", async () => {
    await kms().send(
      new CreateAliasCommand({ AliasName: "alias/by-arn", TargetKeyId: keyArn(app) }),
    );
    const doomed = await createKey("alias-doomed");
    await kms().send(new ScheduleKeyDeletionCommand({ KeyId: doomed, PendingWindowInDays: 7 }));
    await expectAwsError(
      kms().send(new CreateAliasCommand({ AliasName: "alias/doomed", TargetKeyId: doomed })),
      KMSInvalidStateException,
    );
  });

  it("Decrypt with an alias of another key is IncorrectKeyException", async () => {
    await kms().send(new CreateAliasCommand({ AliasName: "alias/other", TargetKeyId: other }));
    const enc = await kms().send(
      new EncryptCommand({ KeyId: "alias/app", Plaintext: Buffer.from("hi") }),
    );
    await expectAwsError(
      kms().send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, KeyId: "alias/other" })),
      IncorrectKeyException,
    );
    await expectAwsError(
      kms().send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, KeyId: "alias/none" })),
      NotFoundException,
    );
  });

  it("UpdateAlias points an alias at another key", async () => {
    await kms().send(new CreateAliasCommand({ AliasName: "alias/moving", TargetKeyId: app }));
    await kms().send(new UpdateAliasCommand({ AliasName: "alias/moving", TargetKeyId: other }));
    const described = await kms().send(new DescribeKeyCommand({ KeyId: "alias/moving" }));
    expect(described.KeyMetadata?.KeyId).toBe(other);
    await expectAwsError(
      kms().send(new UpdateAliasCommand({ AliasName: "alias/never", TargetKeyId: other })),
      NotFoundException,
    );
  });

  it("ListAliases pages by name, filters by key, and answers AWS's entries", async () => {
    const names: string[] = [];
    let Marker: string | undefined;
    let pages = 0;
    do {
      const page = await kms().send(new ListAliasesCommand({ Limit: 1, Marker }));
      pages++;
      for (const a of page.Aliases ?? []) {
        expect(a.AliasArn).toBe(aliasArn(a.AliasName as string));
        expect(a.CreationDate).toBeInstanceOf(Date);
        expect(a.LastUpdatedDate).toBeInstanceOf(Date);
        names.push(a.AliasName as string);
      }
      Marker = page.Truncated ? page.NextMarker : undefined;
    } while (Marker !== undefined && pages < 100);
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(expect.arrayContaining(["alias/app", "alias/by-arn", "alias/moving"]));
    const ofApp = await kms().send(new ListAliasesCommand({ KeyId: keyArn(app) }));
    expect((ofApp.Aliases ?? []).map((a) => a.AliasName).sort()).toEqual([
      "alias/app",
      "alias/by-arn",
    ]);
    expect(ofApp.Aliases?.[0]?.TargetKeyId).toBe(app);
    await expectAwsError(kms().send(new ListAliasesCommand({ Limit: 101 })), "ValidationException");
    await expectAwsError(
      kms().send(new ListAliasesCommand({ KeyId: "no-such-key" })),
      NotFoundException,
    );
  });

  it("are one namespace with the admin API's aliases", async () => {
    await kms().send(new CreateAliasCommand({ AliasName: "alias/shared", TargetKeyId: app }));
    const listed = await signedFetch(gw.url, "GET", "/rustfs/admin/v3/kms/aliases", {
      query: { key_id: app },
    });
    expect(listed.status, listed.text).toBe(200);
    const names = (listed.json as { aliases: { alias_name: string; target_key_id: string }[] })
      .aliases;
    expect(names).toContainEqual(
      expect.objectContaining({ alias_name: "alias/shared", target_key_id: app }),
    );
    const made = await signedFetch(gw.url, "POST", "/rustfs/admin/v3/kms/aliases", {
      body: JSON.stringify({ alias_name: "alias/from-admin", key_id: other }),
    });
    expect(made.status, made.text).toBe(200);
    const described = await kms().send(new DescribeKeyCommand({ KeyId: "alias/from-admin" }));
    expect(described.KeyMetadata?.KeyId).toBe(other);
  });

  it("DeleteAlias removes the name, not the key", async () => {
    await kms().send(new CreateAliasCommand({ AliasName: "alias/temp", TargetKeyId: app }));
    await kms().send(new DeleteAliasCommand({ AliasName: "alias/temp" }));
    await expectAwsError(
      kms().send(new DescribeKeyCommand({ KeyId: "alias/temp" })),
      NotFoundException,
    );
    await expectAwsError(
      kms().send(new DeleteAliasCommand({ AliasName: "alias/temp" })),
      NotFoundException,
    );
    const key = await kms().send(new DescribeKeyCommand({ KeyId: app }));
    expect(key.KeyMetadata?.KeyState).toBe("Enabled");
  });
});
