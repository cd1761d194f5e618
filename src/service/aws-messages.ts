import type { MessageInitShape } from "@bufbuild/protobuf";
import type { KeyMetadataSchema } from "../../gen/kms/aws/v1/types_pb.js";
import type { KeyMetadata } from "../engine/types.js";

/** SYMMETRIC_DEFAULT is AWS's name of the one key spec and encryption algorithm there is here (AES-256-GCM). */
export const SYMMETRIC_DEFAULT = "SYMMETRIC_DEFAULT";

/** epochSeconds is a date as AWS JSON writes one: seconds since the epoch, milliseconds as the fraction. */
export function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}

/**
 * awsKeyMetadata converts the engine's key metadata to AWS's KeyMetadata: the key's
 * ARN in `region`, the state and dates, and the constants of a symmetric key made by
 * this KMS (SYMMETRIC_DEFAULT, AWS_KMS, CUSTOMER, not multi-Region).
 */
export function awsKeyMetadata(
  meta: KeyMetadata,
  arn: string,
  accountId: string,
): MessageInitShape<typeof KeyMetadataSchema> {
  return {
    awsAccountId: accountId,
    keyId: meta.keyId,
    arn,
    creationDate: epochSeconds(meta.creationDate),
    enabled: meta.keyState === "Enabled",
    // AWS always answers a description, empty when none was given.
    description: meta.description ?? "",
    keyUsage: meta.keyUsage,
    keyState: meta.keyState,
    deletionDate: meta.deletionDate === null ? undefined : epochSeconds(meta.deletionDate),
    origin: "AWS_KMS",
    keyManager: "CUSTOMER",
    customerMasterKeySpec: SYMMETRIC_DEFAULT,
    keySpec: SYMMETRIC_DEFAULT,
    encryptionAlgorithms: [SYMMETRIC_DEFAULT],
    multiRegion: false,
  };
}

/** tagList converts a key's tags to AWS's list of `{TagKey, TagValue}`, ordered by key. */
export function tagList(
  tags: Readonly<Record<string, string>>,
): { tagKey: string; tagValue: string }[] {
  return Object.keys(tags)
    .sort()
    .map((tagKey) => ({ tagKey, tagValue: tags[tagKey] as string }));
}
