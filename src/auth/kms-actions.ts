/**
 * KMS_ACTIONS are the actions an identity's policy can allow or deny, one per RPC
 * (configure, reconfigure and rekey share `kms:Configure`; start and stop share
 * `kms:ServiceControl`; status and config are read with `kms:ReadConfig`, so a
 * read-only identity can see them without being able to stop the service;
 * schedule and cancel deletion share `kms:DeleteKey`; the AWS KMS API's
 * RotateKeyOnDemand is `kms:RotateKey`, its aliases need the alias action on
 * the key they name). Which RPC needs which is
 * the `(kms.admin.v1.action)` option of each RPC in the proto.
 */
export const KMS_ACTIONS = [
  "kms:Configure",
  "kms:ServiceControl",
  "kms:ReadConfig",
  "kms:ClearCache",
  "kms:CreateKey",
  "kms:ListKeys",
  "kms:DescribeKey",
  "kms:DeleteKey",
  "kms:EnableKey",
  "kms:DisableKey",
  "kms:RotateKey",
  "kms:TagResource",
  "kms:UntagResource",
  "kms:UpdateKeyDescription",
  "kms:GenerateDataKey",
  "kms:GenerateDataKeyWithoutPlaintext",
  "kms:Encrypt",
  "kms:Decrypt",
  "kms:ReEncrypt",
  "kms:ListResourceTags",
  "kms:CreateAlias",
  "kms:UpdateAlias",
  "kms:DeleteAlias",
  "kms:ListAliases",
  "kms:EnableKeyRotation",
  "kms:DisableKeyRotation",
  "kms:GetKeyRotationStatus",
  "kms:ListKeyRotations",
  "kms:GenerateRandom",
] as const;

/** KmsAction is one of KMS_ACTIONS. */
export type KmsAction = (typeof KMS_ACTIONS)[number];

/** SERVER_INFO_ACTION is the seed's admin permission: it grants every KMS action. */
export const SERVER_INFO_ACTION = "admin:ServerInfo";

/**
 * SERVICE_LEVEL_ACTIONS act on the service, not on one key: a statement allows
 * them only when it is not scoped to keys (no Resource, or `*`).
 */
export const SERVICE_LEVEL_ACTIONS: ReadonlySet<KmsAction> = new Set<KmsAction>([
  "kms:Configure",
  "kms:ServiceControl",
  "kms:ReadConfig",
  "kms:ClearCache",
  "kms:CreateKey",
  "kms:ListKeys",
  "kms:ListAliases",
  "kms:GenerateRandom",
]);
