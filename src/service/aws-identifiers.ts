import { createContextKey } from "@connectrpc/connect";

/** DEFAULT_AWS_ACCOUNT_ID is the account in key ARNs unless `--aws-account-id` says otherwise. */
export const DEFAULT_AWS_ACCOUNT_ID = "000000000000";

/**
 * DEFAULT_AWS_REGION is the region of key ARNs when a request carries no SigV4 scope
 * to take it from (a Connect or gRPC call of TrentService, whose edge does not pass it on).
 */
export const DEFAULT_AWS_REGION = "us-east-1";

/**
 * awsRegionKey carries the region of the request's SigV4 credential scope from the
 * edge to the TrentService handlers, which name keys by ARNs in that region, as AWS does.
 */
export const awsRegionKey = createContextKey<string | undefined>(undefined, {
  description: "the region of the request's SigV4 credential scope",
});

/** KeyIdentifier is what a `KeyId` names: a key by its id, or an alias by its full name. */
export type KeyIdentifier =
  | { kind: "key"; keyId: string }
  | { kind: "alias"; aliasName: string }
  /** An ARN of another account or region, or of another service: no key of this gateway. */
  | { kind: "foreign"; reason: string };

/** The longest identifier AWS accepts in `KeyId` (its model's bound). */
const MAX_IDENTIFIER_LENGTH = 2048;

/** AWS regions are lowercase words and digits joined by dashes (`us-east-1`, `eu-central-2`). */
const REGION = /^[a-z0-9-]{1,64}$/;

/** `arn:<partition>:kms:<region>:<account>:<key/…|alias/…>`. */
const KMS_ARN = /^arn:([a-z-]+):kms:([^:]*):([^:]*):((?:key|alias)\/.*)$/s;

/** AwsIdentifiers builds and reads the key and alias ARNs of one gateway's account. */
export interface AwsIdentifiers {
  readonly accountId: string;
  /** keyArn is `arn:aws:kms:<region>:<account>:key/<id>`. */
  keyArn(region: string, keyId: string): string;
  /** aliasArn is `arn:aws:kms:<region>:<account>:alias/<name>` for `alias/<name>`. */
  aliasArn(region: string, aliasName: string): string;
  /**
   * parse reads a `KeyId` (id, key ARN, alias name or alias ARN). An ARN must name this
   * gateway's account and the request's region; anything else is `foreign`, which the
   * service answers as AWS does for a key it does not hold (NotFoundException).
   */
  parse(identifier: string, region: string): KeyIdentifier;
}

/** regionOrDefault is `region` when it looks like an AWS region, else DEFAULT_AWS_REGION. */
export function regionOrDefault(region: string | undefined): string {
  return region !== undefined && REGION.test(region) ? region : DEFAULT_AWS_REGION;
}

/** createAwsIdentifiers returns the ARN builder and reader of the account `accountId` (12 digits). */
export function createAwsIdentifiers(accountId: string = DEFAULT_AWS_ACCOUNT_ID): AwsIdentifiers {
  if (!/^\d{12}$/.test(accountId)) {
    throw new Error("the AWS account id must be 12 digits");
  }
  return {
    accountId,
    keyArn: (region, keyId) => `arn:aws:kms:${region}:${accountId}:key/${keyId}`,
    aliasArn: (region, aliasName) => `arn:aws:kms:${region}:${accountId}:${aliasName}`,
    parse(identifier, region) {
      if (identifier.length > MAX_IDENTIFIER_LENGTH) {
        return { kind: "foreign", reason: "KeyId is longer than 2048 characters" };
      }
      if (identifier.startsWith("alias/")) return { kind: "alias", aliasName: identifier };
      if (!identifier.startsWith("arn:")) return { kind: "key", keyId: identifier };
      const arn = KMS_ARN.exec(identifier);
      if (arn === null || arn[1] !== "aws") {
        return { kind: "foreign", reason: "not a KMS key or alias ARN" };
      }
      if (arn[3] !== accountId || arn[2] !== region) {
        return { kind: "foreign", reason: "the ARN names another account or region" };
      }
      const resource = arn[4] as string;
      return resource.startsWith("alias/")
        ? { kind: "alias", aliasName: resource }
        : { kind: "key", keyId: resource.slice("key/".length) };
    },
  };
}
