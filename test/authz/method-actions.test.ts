import { describe, expect, it } from "vitest";
import { KmsAdminService } from "../../gen/kms/admin/v1/service_pb.js";
import { TrentService } from "../../gen/kms/aws/v1/trent_service_pb.js";
import { KMS_ACTIONS } from "../../src/auth/kms-actions.js";
import { isKmsAction } from "../../src/auth/permissions.js";
import { UNAUDITED_METHODS } from "../../src/service/call-authorizer.js";
import { methodActionsOf } from "../../src/service/method-actions.js";

// The action table comes from the proto's (kms.admin.v1.action) options: every
// RPC has one, every one is a known action, and every action is used.

describe("the action of each RPC", () => {
  const table = methodActionsOf(KmsAdminService, isKmsAction);

  it("every RPC carries a known action", () => {
    expect(table.size).toBe(KmsAdminService.methods.length);
    for (const method of KmsAdminService.methods) {
      expect(isKmsAction(table.get(method) ?? ""), method.name).toBe(true);
    }
  });

  it("is the table issue 9 asks for", () => {
    const byName = Object.fromEntries([...table].map(([m, a]) => [m.name, a]));
    expect(byName).toEqual({
      Configure: "kms:Configure",
      Reconfigure: "kms:Configure",
      RekeyMaster: "kms:Configure",
      StartService: "kms:ServiceControl",
      StopService: "kms:ServiceControl",
      GetStatus: "kms:ReadConfig",
      GetConfig: "kms:ReadConfig",
      ClearCache: "kms:ClearCache",
      CreateKey: "kms:CreateKey",
      ListKeys: "kms:ListKeys",
      DescribeKey: "kms:DescribeKey",
      ScheduleKeyDeletion: "kms:DeleteKey",
      CancelKeyDeletion: "kms:DeleteKey",
      EnableKey: "kms:EnableKey",
      DisableKey: "kms:DisableKey",
      RotateKey: "kms:RotateKey",
      TagKey: "kms:TagResource",
      UntagKey: "kms:UntagResource",
      UpdateKeyDescription: "kms:UpdateKeyDescription",
      GenerateDataKey: "kms:GenerateDataKey",
      GenerateDataKeyWithoutPlaintext: "kms:GenerateDataKeyWithoutPlaintext",
      Encrypt: "kms:Encrypt",
      Decrypt: "kms:Decrypt",
      ReEncrypt: "kms:ReEncrypt",
      CreateAlias: "kms:CreateAlias",
      UpdateAlias: "kms:UpdateAlias",
      DeleteAlias: "kms:DeleteAlias",
      ListAliases: "kms:ListAliases",
      EnableKeyRotation: "kms:EnableKeyRotation",
      DisableKeyRotation: "kms:DisableKeyRotation",
      GetKeyRotationStatus: "kms:GetKeyRotationStatus",
      ListKeyRotations: "kms:ListKeyRotations",
    });
  });

  it("every action of the policy language is some RPC's, of one service or the other", () => {
    const used = new Set([
      ...table.values(),
      ...methodActionsOf(TrentService, isKmsAction).values(),
    ]);
    expect([...used].sort()).toEqual([...KMS_ACTIONS].sort());
  });

  it("TrentService's table is AWS's action of each operation", () => {
    const trent = methodActionsOf(TrentService, isKmsAction);
    expect(trent.size).toBe(TrentService.methods.length);
    const byName = Object.fromEntries([...trent].map(([m, a]) => [m.name, a]));
    expect(byName).toEqual({
      CreateKey: "kms:CreateKey",
      DescribeKey: "kms:DescribeKey",
      ListKeys: "kms:ListKeys",
      EnableKey: "kms:EnableKey",
      DisableKey: "kms:DisableKey",
      ScheduleKeyDeletion: "kms:DeleteKey",
      CancelKeyDeletion: "kms:DeleteKey",
      UpdateKeyDescription: "kms:UpdateKeyDescription",
      TagResource: "kms:TagResource",
      UntagResource: "kms:UntagResource",
      ListResourceTags: "kms:ListResourceTags",
      Encrypt: "kms:Encrypt",
      Decrypt: "kms:Decrypt",
      ReEncrypt: "kms:ReEncrypt",
      GenerateDataKey: "kms:GenerateDataKey",
      GenerateDataKeyWithoutPlaintext: "kms:GenerateDataKeyWithoutPlaintext",
      GenerateRandom: "kms:GenerateRandom",
      EnableKeyRotation: "kms:EnableKeyRotation",
      DisableKeyRotation: "kms:DisableKeyRotation",
      GetKeyRotationStatus: "kms:GetKeyRotationStatus",
      RotateKeyOnDemand: "kms:RotateKey",
      ListKeyRotations: "kms:ListKeyRotations",
      CreateAlias: "kms:CreateAlias",
      UpdateAlias: "kms:UpdateAlias",
      DeleteAlias: "kms:DeleteAlias",
      ListAliases: "kms:ListAliases",
    });
  });

  it("refuses to build a table when an action is not known (no gateway starts)", () => {
    expect(() => methodActionsOf(KmsAdminService, (a) => a !== "kms:Decrypt")).toThrow(
      /KmsAdminService.Decrypt has no valid \(kms.admin.v1.action\)/,
    );
  });

  it("leaves only reads unaudited", () => {
    expect([...UNAUDITED_METHODS].sort()).toEqual([
      "DescribeKey",
      "GetConfig",
      "GetStatus",
      "ListKeys",
    ]);
    for (const name of UNAUDITED_METHODS) {
      expect(KmsAdminService.methods.some((m) => m.name === name)).toBe(true);
    }
  });
});
