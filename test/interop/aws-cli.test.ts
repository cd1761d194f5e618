import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { useGateway } from "../helpers/gateway-process.js";
import { testCredentials } from "../helpers/signed-fetch.js";
import { awsCli } from "./require-tools.js";

// The `aws kms` walk of the README's "AWS KMS API" section with Debian's aws CLI v2
// (awscli), against a real gateway: keys, aliases, data keys, encryption with a
// context, pagination, deletion, and a typed error's exit.

const run = promisify(execFile);
const gw = useGateway();
const home = mkdtempSync(join(tmpdir(), "aws-cli-home-"));

/** awsKms runs `aws kms <args> --endpoint-url <gateway>` and parses its JSON output. */
async function awsKms(...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run(awsCli, ["kms", ...args, "--endpoint-url", gw.url], {
    env: {
      PATH: process.env.PATH ?? "",
      // A fresh HOME: no profile of the machine's user leaks in.
      HOME: home,
      AWS_ACCESS_KEY_ID: testCredentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: testCredentials.secretAccessKey,
      AWS_DEFAULT_REGION: "us-east-1",
      AWS_PAGER: "",
    },
  });
  return stdout.trim() === "" ? {} : (JSON.parse(stdout) as Record<string, unknown>);
}

// Each aws CLI run starts a Python interpreter (2-3 s here), so the walk outlasts the 30 s default.
describe("the aws CLI", { timeout: 120_000 }, () => {
  it("walks keys, aliases and data keys", async () => {
    const created = await awsKms(
      "create-key",
      "--description",
      "app key",
      "--tags",
      "TagKey=name,TagValue=cli-app",
    );
    expect(created.KeyMetadata).toMatchObject({
      KeyId: "cli-app",
      Arn: "arn:aws:kms:us-east-1:000000000000:key/cli-app",
      KeyState: "Enabled",
    });
    await awsKms("create-alias", "--alias-name", "alias/app", "--target-key-id", "cli-app");

    const dataKey = await awsKms(
      "generate-data-key",
      "--key-id",
      "alias/app",
      "--key-spec",
      "AES_256",
      "--encryption-context",
      "bucket=photos",
    );
    expect(dataKey.KeyId).toBe("arn:aws:kms:us-east-1:000000000000:key/cli-app");
    expect(Buffer.from(dataKey.Plaintext as string, "base64").byteLength).toBe(32);
    const decrypted = await awsKms(
      "decrypt",
      "--ciphertext-blob",
      dataKey.CiphertextBlob as string,
      "--encryption-context",
      "bucket=photos",
    );
    expect(decrypted.Plaintext).toBe(dataKey.Plaintext);

    const encrypted = await awsKms(
      "encrypt",
      "--key-id",
      "alias/app",
      "--plaintext",
      Buffer.from("hello").toString("base64"),
    );
    const back = await awsKms("decrypt", "--ciphertext-blob", encrypted.CiphertextBlob as string);
    expect(Buffer.from(back.Plaintext as string, "base64").toString()).toBe("hello");

    const described = await awsKms("describe-key", "--key-id", "alias/app");
    expect(described.KeyMetadata).toMatchObject({ KeyId: "cli-app", Description: "app key" });
    const aliases = await awsKms("list-aliases", "--key-id", "cli-app");
    expect(aliases.Aliases).toEqual([
      expect.objectContaining({ AliasName: "alias/app", TargetKeyId: "cli-app" }),
    ]);
    const random = await awsKms("generate-random", "--number-of-bytes", "16");
    expect(Buffer.from(random.Plaintext as string, "base64").byteLength).toBe(16);
  });

  it("turns automatic rotation on and off", async () => {
    // Debian 12's CLI (2.9) predates RotationPeriodInDays, RotateKeyOnDemand and
    // ListKeyRotations (AWS added them in 2024); @aws-sdk/client-kms covers those.
    await awsKms("create-key", "--tags", "TagKey=name,TagValue=cli-rot");
    await awsKms("enable-key-rotation", "--key-id", "cli-rot");
    const on = await awsKms("get-key-rotation-status", "--key-id", "cli-rot");
    expect(on.KeyRotationEnabled).toBe(true);
    await awsKms("disable-key-rotation", "--key-id", "cli-rot");
    const off = await awsKms("get-key-rotation-status", "--key-id", "cli-rot");
    expect(off.KeyRotationEnabled).toBe(false);
  });

  it("pages list-keys itself (the CLI follows NextMarker)", async () => {
    for (const name of ["cli-p1", "cli-p2", "cli-p3"]) {
      await awsKms("create-key", "--tags", `TagKey=name,TagValue=${name}`);
    }
    const all = await awsKms("list-keys", "--page-size", "1");
    const ids = (all.Keys as { KeyId: string }[]).map((k) => k.KeyId);
    expect(ids).toEqual(expect.arrayContaining(["cli-p1", "cli-p2", "cli-p3"]));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("schedules and cancels a deletion", async () => {
    await awsKms("create-key", "--tags", "TagKey=name,TagValue=cli-doomed");
    const scheduled = await awsKms(
      "schedule-key-deletion",
      "--key-id",
      "cli-doomed",
      "--pending-window-in-days",
      "7",
    );
    expect(scheduled).toMatchObject({ KeyState: "PendingDeletion", PendingWindowInDays: 7 });
    await awsKms("cancel-key-deletion", "--key-id", "cli-doomed");
  });

  it("exits non-zero naming AWS's exception", async () => {
    const failure = await awsKms("describe-key", "--key-id", "alias/none").then(
      () => undefined,
      (e: { code?: number; stderr?: string }) => e,
    );
    expect(failure?.code).toBe(254);
    expect(failure?.stderr).toMatch(/\(NotFoundException\) when calling the DescribeKey operation/);
  });
});
