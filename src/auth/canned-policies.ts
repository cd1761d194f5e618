import { type PolicyDocument, parsePolicyDocument } from "./policy-document.js";

/**
 * The canned policies an identity can name instead of writing one, with RustFS's
 * names where it has them. A key-scoped one may be narrowed to a key-id pattern
 * with a colon: `KMSKeyUser:app-*` allows its actions on keys `app-*` only.
 */
const CANNED: Record<string, { actions: string[]; scopable: boolean }> = {
  /** Everything, as RustFS's consoleAdmin. */
  consoleAdmin: { actions: ["kms:*"], scopable: false },
  /** Manages keys, never sees a data key. */
  KMSKeyAdministrator: {
    actions: [
      "kms:CreateKey",
      "kms:DescribeKey",
      "kms:ListKeys",
      "kms:EnableKey",
      "kms:DisableKey",
      "kms:RotateKey",
      "kms:DeleteKey",
      "kms:TagResource",
      "kms:UntagResource",
      "kms:UpdateKeyDescription",
      "kms:ListResourceTags",
      "kms:CreateAlias",
      "kms:UpdateAlias",
      "kms:DeleteAlias",
      "kms:ListAliases",
      "kms:EnableKeyRotation",
      "kms:DisableKeyRotation",
      "kms:GetKeyRotationStatus",
      "kms:ListKeyRotations",
    ],
    scopable: false,
  },
  /** Uses keys for data: what an object store needs. */
  KMSKeyUser: {
    actions: [
      "kms:GenerateDataKey",
      "kms:GenerateDataKeyWithoutPlaintext",
      "kms:Decrypt",
      "kms:Encrypt",
      "kms:ReEncrypt",
      "kms:DescribeKey",
    ],
    scopable: true,
  },
  /**
   * Reads what exists, changes nothing, sees no key material. Status is read with
   * kms:ReadConfig (kms:ServiceControl would also let it stop the service).
   */
  KMSAuditor: {
    actions: [
      "kms:ListKeys",
      "kms:DescribeKey",
      "kms:ReadConfig",
      "kms:ListResourceTags",
      "kms:ListAliases",
      "kms:GetKeyRotationStatus",
      "kms:ListKeyRotations",
    ],
    scopable: false,
  },
};

/** CANNED_POLICY_NAMES lists the canned policies, for error messages and docs. */
export const CANNED_POLICY_NAMES: readonly string[] = Object.keys(CANNED);

/**
 * cannedPolicy returns the policy a name stands for (`KMSKeyUser`, or
 * `KMSKeyUser:<key-id pattern>`), or undefined for an unknown name or a scope on
 * a policy that cannot take one.
 */
export function cannedPolicy(reference: string): PolicyDocument | undefined {
  const colon = reference.indexOf(":");
  const name = colon === -1 ? reference : reference.slice(0, colon);
  const canned = Object.hasOwn(CANNED, name) ? CANNED[name] : undefined;
  if (!canned) return undefined;
  if (colon === -1) {
    return parsePolicyDocument(
      { Version: "2012-10-17", Statement: { Effect: "Allow", Action: canned.actions } },
      name,
    );
  }
  const pattern = reference.slice(colon + 1);
  if (!canned.scopable || pattern === "") return undefined;
  return parsePolicyDocument(
    {
      Version: "2012-10-17",
      Statement: {
        Effect: "Allow",
        Action: canned.actions,
        Resource: `arn:aws:kms:::key/${pattern}`,
      },
    },
    reference,
  );
}
