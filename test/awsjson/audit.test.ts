import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  GenerateDataKeyCommand,
} from "@aws-sdk/client-kms";
import { describe, expect, it } from "vitest";
import { authzSpawn, credentialsOf, writeIdentitiesFile } from "../authz/authz-fixture.js";
import { useGateway } from "../helpers/gateway-process.js";
import { expectAwsError } from "./expect-aws-error.js";
import { kmsClient } from "./kms-client.js";

// The AWS KMS API writes the same audit trail as the admin API: one line per audited
// call, with the action, the operation, the key the request really named (an alias
// resolved), the outcome, and never a context value or plaintext.

const CONTEXT_VALUE = "aws-audit-secret-context-5d2e";
const identities = writeIdentitiesFile();
const auditPath = join(mkdtempSync(join(tmpdir(), "kms-aws-audit-")), "audit.log");
const gw = useGateway({ spawn: () => authzSpawn(identities, ["--audit-log", auditPath]) });

const auditLines = () =>
  readFileSync(auditPath, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe("the audit trail of the AWS KMS API", () => {
  it("records allowed and denied calls by action, operation and resolved key", async () => {
    const root = kmsClient(gw.url);
    await root.send(new CreateKeyCommand({ Tags: [{ TagKey: "name", TagValue: "app-audit" }] }));
    await root.send(
      new CreateAliasCommand({ AliasName: "alias/audited", TargetKeyId: "app-audit" }),
    );
    const made = await root.send(
      new GenerateDataKeyCommand({
        KeyId: "alias/audited",
        KeySpec: "AES_256",
        EncryptionContext: { bucket: CONTEXT_VALUE },
      }),
    );
    await root.send(
      new DecryptCommand({
        CiphertextBlob: made.CiphertextBlob,
        EncryptionContext: { bucket: CONTEXT_VALUE },
      }),
    );
    // `scoped` may generate data keys of app-* keys: the alias resolves to one.
    await kmsClient(gw.url, { credentials: credentialsOf("scoped") }).send(
      new GenerateDataKeyCommand({ KeyId: "alias/audited", KeySpec: "AES_128" }),
    );
    await expectAwsError(
      kmsClient(gw.url, { credentials: credentialsOf("key-user") }).send(
        new GenerateDataKeyCommand({ KeyId: "other-key", KeySpec: "AES_128" }),
      ),
      "AccessDeniedException",
    );

    const lines = auditLines();
    const of = (method: string) => lines.filter((l) => l.method === method);
    expect(of("CreateKey")[0]).toMatchObject({
      action: "kms:CreateKey",
      outcome: "allowed",
      keyIds: ["app-audit"],
    });
    expect(of("CreateAlias")[0]).toMatchObject({
      action: "kms:CreateAlias",
      outcome: "allowed",
      keyIds: ["app-audit"],
    });
    const generated = of("GenerateDataKey");
    expect(generated[0]).toMatchObject({
      action: "kms:GenerateDataKey",
      outcome: "allowed",
      keyIds: ["app-audit"],
      keyVersion: 1,
      identity: "test-admin",
    });
    // The context's keys are kept, its values only as a hash.
    expect(Object.keys(generated[0]?.encryptionContext as object)).toEqual(["bucket"]);
    expect(of("Decrypt")[0]).toMatchObject({ outcome: "allowed", keyIds: ["app-audit"] });
    expect(generated.find((l) => l.identity === "scoped")).toMatchObject({
      outcome: "allowed",
      keyIds: ["app-audit"],
    });
    expect(generated.find((l) => l.identity === "key-user")).toMatchObject({
      outcome: "denied",
      errorCode: "PermissionDenied",
      keyIds: ["other-key"],
    });
    expect(readFileSync(auditPath, "utf8")).not.toContain(CONTEXT_VALUE);
    expect(readFileSync(auditPath, "utf8")).not.toContain(
      Buffer.from(made.Plaintext ?? []).toString("base64"),
    );
  });
});
