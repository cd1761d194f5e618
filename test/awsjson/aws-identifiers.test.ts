import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { KmsError } from "../../src/engine/errors.js";
import { awsErrorOf, awsException } from "../../src/service/aws-errors.js";
import {
  createAwsIdentifiers,
  DEFAULT_AWS_REGION,
  regionOrDefault,
} from "../../src/service/aws-identifiers.js";

describe("AWS identifiers", () => {
  const ids = createAwsIdentifiers("123456789012");

  it("builds key and alias ARNs in a region", () => {
    expect(ids.keyArn("eu-west-1", "k1")).toBe("arn:aws:kms:eu-west-1:123456789012:key/k1");
    expect(ids.aliasArn("eu-west-1", "alias/app")).toBe(
      "arn:aws:kms:eu-west-1:123456789012:alias/app",
    );
  });

  it("reads ids, key ARNs, alias names and alias ARNs of its own account and region", () => {
    expect(ids.parse("k1", "eu-west-1")).toEqual({ kind: "key", keyId: "k1" });
    expect(ids.parse("alias/app", "eu-west-1")).toEqual({ kind: "alias", aliasName: "alias/app" });
    expect(ids.parse("arn:aws:kms:eu-west-1:123456789012:key/k1", "eu-west-1")).toEqual({
      kind: "key",
      keyId: "k1",
    });
    expect(ids.parse("arn:aws:kms:eu-west-1:123456789012:alias/a/b", "eu-west-1")).toEqual({
      kind: "alias",
      aliasName: "alias/a/b",
    });
  });

  it("calls an ARN of another account, region, partition or service foreign", () => {
    for (const arn of [
      "arn:aws:kms:eu-west-1:000000000000:key/k1",
      "arn:aws:kms:us-east-1:123456789012:key/k1",
      "arn:aws-cn:kms:eu-west-1:123456789012:key/k1",
      "arn:aws:s3:eu-west-1:123456789012:key/k1",
      "arn:aws:kms:eu-west-1:123456789012:grant/k1",
      `k${"x".repeat(2048)}`,
    ]) {
      expect(ids.parse(arn, "eu-west-1").kind, arn).toBe("foreign");
    }
  });

  it("refuses an account id that is not 12 digits, and falls back to the default region", () => {
    expect(() => createAwsIdentifiers("12345")).toThrow(/12 digits/);
    expect(createAwsIdentifiers().accountId).toBe("000000000000");
    expect(regionOrDefault(undefined)).toBe(DEFAULT_AWS_REGION);
    expect(regionOrDefault("Not A Region!")).toBe(DEFAULT_AWS_REGION);
    expect(regionOrDefault("ap-southeast-2")).toBe("ap-southeast-2");
  });
});

describe("AWS exception names", () => {
  const nameOf = (err: unknown, op?: string) => awsErrorOf(err, op).metadata.get("kms-error-code");

  it("maps each engine code, and a key state to Disabled or KMSInvalidState", () => {
    expect(nameOf(new KmsError("KEY_NOT_FOUND", "m"))).toBe("NotFoundException");
    expect(nameOf(new KmsError("INVALID_CIPHERTEXT", "m"))).toBe("InvalidCiphertextException");
    expect(nameOf(new KmsError("KEY_EXISTS", "m"))).toBe("AlreadyExistsException");
    expect(nameOf(new KmsError("INVALID_ARGUMENT", "m"))).toBe("ValidationException");
    expect(nameOf(new KmsError("BACKEND_UNAVAILABLE", "m"))).toBe("DependencyTimeoutException");
    expect(nameOf(new KmsError("BACKEND_ERROR", "m"))).toBe("KMSInternalException");
    const disabled = new KmsError("INVALID_KEY_STATE", "m", { keyState: "Disabled" });
    expect(nameOf(disabled, "Encrypt")).toBe("DisabledException");
    expect(nameOf(disabled, "CancelKeyDeletion")).toBe("KMSInvalidStateException");
    const pending = new KmsError("INVALID_KEY_STATE", "m", { keyState: "PendingDeletion" });
    expect(nameOf(pending, "Encrypt")).toBe("KMSInvalidStateException");
  });

  it("reads the engine error inside a ConnectError, keeps a named one, and hides the rest", () => {
    const wrapped = new ConnectError(
      "m",
      Code.NotFound,
      {},
      undefined,
      new KmsError("KEY_NOT_FOUND", "m"),
    );
    expect(nameOf(wrapped)).toBe("NotFoundException");
    const named = awsException("IncorrectKeyException", "m", Code.InvalidArgument);
    expect(awsErrorOf(named)).toBe(named);
    expect(nameOf(new ConnectError("no", Code.PermissionDenied))).toBe("AccessDeniedException");
    const internal = awsErrorOf(new Error("secret detail /var/lib/x"));
    expect(internal.rawMessage).toBe("internal error");
    expect(internal.metadata.get("kms-error-code")).toBe("KMSInternalException");
  });
});
