import { describe, expect, it } from "vitest";
import { cannedPolicy } from "../../src/auth/canned-policies.js";
import { createRootIdentity, type Identity } from "../../src/auth/identity.js";
import { KMS_ACTIONS } from "../../src/auth/kms-actions.js";
import { permissionsOf } from "../../src/auth/permissions.js";
import { type PolicyDocument, parsePolicyDocument } from "../../src/auth/policy-document.js";
import { replayKeyOf } from "../../src/auth/replay-key.js";

const identity = (...policies: PolicyDocument[]): Identity => ({
  name: "t",
  accessKey: "t",
  root: false,
  policies,
});
const policy = (...Statement: object[]) =>
  parsePolicyDocument({ Version: "2012-10-17", Statement }, "p");

describe("permissionsOf", () => {
  it("root may do every action, and nothing that is not an action", () => {
    const root = permissionsOf(createRootIdentity("admin"));
    for (const action of KMS_ACTIONS) {
      expect(root.allows(action, ["any"])).toBe(true);
      expect(root.mayEver(action)).toBe(true);
    }
    expect(root.allows("kms:Nope", [])).toBe(false);
  });

  it("an identity without a policy may do nothing", () => {
    const none = permissionsOf({ name: "n", accessKey: "n", root: false });
    for (const action of KMS_ACTIONS) {
      expect(none.allows(action, ["k"])).toBe(false);
      expect(none.allows(action, [])).toBe(false);
      expect(none.mayEver(action)).toBe(false);
    }
  });

  it("mayEver: a key-scoped Allow may allow a key action some day, never a service action", () => {
    const user = permissionsOf(identity(cannedPolicy("KMSKeyUser:app-*") as PolicyDocument));
    expect(user.mayEver("kms:Decrypt")).toBe(true);
    expect(user.mayEver("kms:CreateKey")).toBe(false);
    const scopedCreate = permissionsOf(
      identity(
        policy({ Effect: "Allow", Action: "kms:CreateKey", Resource: "arn:aws:kms:::key/a*" }),
      ),
    );
    expect(scopedCreate.mayEver("kms:CreateKey")).toBe(false);
  });

  it("mayEver: an unscoped Deny rules the action out, a key-scoped Deny does not", () => {
    const p = permissionsOf(
      identity(
        policy(
          { Effect: "Allow", Action: "kms:*" },
          { Effect: "Deny", Action: "kms:Decrypt" },
          { Effect: "Deny", Action: "kms:Encrypt", Resource: "arn:aws:kms:::key/x" },
        ),
      ),
    );
    expect(p.mayEver("kms:Decrypt")).toBe(false);
    expect(p.mayEver("kms:Encrypt")).toBe(true);
    expect(p.allows("kms:Encrypt", ["x"])).toBe(false);
    expect(p.allows("kms:Encrypt", ["y"])).toBe(true);
  });

  it("a key-scoped action with no key (nothing to check) is allowed only unscoped", () => {
    const scoped = permissionsOf(identity(cannedPolicy("KMSKeyUser:app-*") as PolicyDocument));
    expect(scoped.allows("kms:Decrypt", [])).toBe(false);
    const unscoped = permissionsOf(identity(cannedPolicy("KMSKeyUser") as PolicyDocument));
    expect(unscoped.allows("kms:Decrypt", [])).toBe(true);
  });
});

describe("replayKeyOf", () => {
  const sig = "a".repeat(64);
  it("reads the signature of a header-signed request", () => {
    const headers = {
      authorization: `AWS4-HMAC-SHA256 Credential=ak/20260101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=${sig}`,
      "x-amz-date": "20260101T000000Z",
    };
    expect(replayKeyOf(headers, "")).toEqual({ signature: sig });
  });

  it("reads the signature and lifetime of a presigned URL", () => {
    const query = `X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ak%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20260101T000000Z&X-Amz-Expires=600&X-Amz-SignedHeaders=host&X-Amz-Signature=${sig}`;
    expect(replayKeyOf({}, query)).toEqual({ signature: sig, expiresSeconds: 600 });
  });

  it("has nothing for an unsigned request", () => {
    expect(replayKeyOf({}, "")).toBeUndefined();
  });
});
