import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { useGateway } from "../helpers/gateway-process.js";
import { testCredentials } from "../helpers/signed-fetch.js";
import { debianPython } from "./require-tools.js";

// boto3 (Debian's python3-boto3) against a real gateway: the AWS Encryption SDK pattern
// (a data key per message, AES-GCM locally with python3-cryptography, the wrapped key
// decrypted later with its context), boto3's typed exceptions, and its paginator.

const run = promisify(execFile);
const root = new URL("../..", import.meta.url).pathname;
const gw = useGateway();

describe("boto3", () => {
  it("generates a data key, seals locally, and decrypts the data key later with the context", async () => {
    const { stdout } = await run(
      debianPython,
      [`${root}test/interop/fixtures/aws-kms-boto3.py`, gw.url],
      {
        env: {
          PATH: process.env.PATH ?? "",
          HOME: process.env.HOME ?? "",
          AWS_ACCESS_KEY_ID: testCredentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: testCredentials.secretAccessKey,
        },
      },
    );
    expect(JSON.parse(stdout)).toEqual({
      arn: "arn:aws:kms:eu-central-1:000000000000:key/boto3-app",
      message: "the message",
      decrypt_key_id: "arn:aws:kms:eu-central-1:000000000000:key/boto3-app",
      wrong_context: "InvalidCiphertextException",
      missing: "NotFoundException",
      disabled: "DisabledException",
      aliases: ["alias/boto3-app"],
      random: 24,
    });
  });
});
