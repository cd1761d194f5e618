/**
 * KMS_ACTIONS are the actions an identity's policy can allow or deny, one per RPC
 * (configure and reconfigure share `kms:Configure`; start, stop and status share
 * `kms:ServiceControl`; schedule and cancel deletion share `kms:DeleteKey`).
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
]);
