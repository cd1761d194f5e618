import { randomBytes } from "node:crypto";
import type { DescMethod } from "@bufbuild/protobuf";
import { Code, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { TrentService } from "../../gen/kms/aws/v1/trent_service_pb.js";
import type { RecipientInfo, Tag } from "../../gen/kms/aws/v1/types_pb.js";
import { KmsError } from "../engine/errors.js";
import { isValidKeyId } from "../engine/key-id.js";
import type { KmsEngine } from "../engine/types.js";
import { awsErrorOf, awsException } from "./aws-errors.js";
import {
  type AwsIdentifiers,
  awsRegionKey,
  createAwsIdentifiers,
  regionOrDefault,
} from "./aws-identifiers.js";
import { awsKeyMetadata, epochSeconds, SYMMETRIC_DEFAULT, tagList } from "./aws-messages.js";
import {
  type CallAuthorizer,
  type CallFacts,
  defaultAuthorizerOf,
  type ResultFacts,
} from "./call-authorizer.js";
import { callerKey } from "./caller.js";
import { envelopeOf, type ServiceLog } from "./kms-admin-service.js";

/** TrentServiceOptions configure createTrentService. */
export interface TrentServiceOptions {
  /** The gateway's one authorizer (its table holds both services' actions); else one of its own. */
  authorizer?: CallAuthorizer;
  /** The account of key ARNs (`--aws-account-id`); 000000000000 by default. */
  identifiers?: AwsIdentifiers;
  log?: ServiceLog;
}

const NO_KEYS: CallFacts = { keyIds: [] };

/** AWS's bounds (its API reference), checked before the engine sees a request. */
const MAX_TAGS = 50;
const MAX_GRANT_TOKENS = 10;
const MAX_PLAINTEXT_BYTES = 4096;
const MAX_CIPHERTEXT_BYTES = 6144;
const MAX_RANDOM_BYTES = 1024;
const DEFAULT_DELETION_WINDOW_DAYS = 30;

/**
 * createTrentService builds kms.aws.v1.TrentService, the AWS KMS API, over the same
 * engine and authorizer as the admin API. Every handler first resolves the key its
 * request names (id, key ARN, alias, alias ARN) so that policies judge the real key;
 * a name that resolves to no key is authorized as naming none (only an unscoped
 * statement allows that) and then answered NotFoundException. Then it validates
 * AWS's bounds, calls the engine, and answers AWS's shapes with keys named by ARN in
 * the request's region. Errors leave as ConnectErrors whose `kms-error-code` is the
 * AWS exception name (awsErrorOf), which the AWS JSON adapter sends as `__type`.
 */
export function createTrentService(
  engine: KmsEngine,
  options: TrentServiceOptions = {},
): ServiceImpl<typeof TrentService> {
  const authorizer = options.authorizer ?? defaultAuthorizerOf(TrentService);
  const ids = options.identifiers ?? createAwsIdentifiers();

  const regionOf = (ctx: HandlerContext) => regionOrDefault(ctx.values.get(awsRegionKey));

  async function call<T>(
    ctx: HandlerContext,
    facts: CallFacts,
    op: () => Promise<T>,
    outcomeOf?: (result: T) => ResultFacts,
  ): Promise<T> {
    try {
      return await authorizer.run(
        ctx.values.get(callerKey),
        ctx.method as DescMethod,
        facts,
        op,
        outcomeOf,
      );
    } catch (err) {
      const error = awsErrorOf(err, ctx.method.name);
      if (error.code === Code.Internal) {
        options.log?.("error", "request failed", {
          method: ctx.method.name,
          cause: error.cause ?? err,
        });
      }
      throw error;
    }
  }

  /** resolve returns the id of the key a `KeyId` names (an alias is looked up in the engine). */
  async function resolve(identifier: string, region: string, field = "KeyId"): Promise<string> {
    if (identifier === "") throw invalid(`${field} is required`);
    const parsed = ids.parse(identifier, region);
    if (parsed.kind === "alias") return engine.resolveAlias(parsed.aliasName);
    if (parsed.kind === "foreign") throw notFound(`${field}: ${parsed.reason}`);
    if (!isValidKeyId(parsed.keyId)) throw notFound(`${field} is not a valid key id`);
    return parsed.keyId;
  }

  /** resolveKeyOnly is resolve for the fields that name a key but never an alias (TargetKeyId). */
  function resolveKeyOnly(identifier: string, region: string, field: string): Promise<string> {
    if (ids.parse(identifier, region).kind === "alias") {
      return Promise.reject(invalid(`${field} must name a key (id or key ARN), not an alias`));
    }
    return resolve(identifier, region, field);
  }

  /** settle runs a resolution, keeping its failure for later instead of throwing it now. */
  async function settle(resolution: Promise<string>): Promise<string | Failure> {
    try {
      return await resolution;
    } catch (cause) {
      return new Failure(cause);
    }
  }

  /**
   * keyCall runs an operation on the key `identifier` names: resolved first, then
   * authorized on that key (or on none when it names none, and then its failure is
   * the answer), then `op`.
   */
  async function keyCall<T>(
    ctx: HandlerContext,
    identifier: string,
    op: (keyId: string, region: string) => Promise<T>,
    extra: Omit<CallFacts, "keyIds"> = {},
    outcomeOf?: (result: T) => ResultFacts,
  ): Promise<T> {
    const region = regionOf(ctx);
    const keyId = await settle(resolve(identifier, region));
    if (keyId instanceof Failure) {
      return call(ctx, { keyIds: [], ...extra }, () => keyId.reject());
    }
    return call(ctx, { keyIds: [keyId], ...extra }, () => op(keyId, region), outcomeOf);
  }

  /** wrappedOutcome is the audit line's key version of a call that answers a ciphertext. */
  const wrappedOutcome = (r: { ciphertextBlob?: Uint8Array }): ResultFacts => ({
    keyVersion: r.ciphertextBlob ? (envelopeOf(r.ciphertextBlob)?.keyVersion ?? null) : null,
  });

  return {
    createKey: (req, ctx) =>
      call(
        ctx,
        NO_KEYS,
        async () => {
          if (req.policy !== undefined) {
            throw unsupported("Policy: key policies are not supported (identity policies govern)");
          }
          if (req.customKeyStoreId !== undefined) throw unsupported("CustomKeyStoreId");
          if (req.xksKeyId !== undefined) throw unsupported("XksKeyId");
          if (req.multiRegion === true) throw unsupported("MultiRegion");
          expectOneOf(req.keyUsage, "KeyUsage", ["ENCRYPT_DECRYPT"]);
          expectOneOf(req.keySpec, "KeySpec", [SYMMETRIC_DEFAULT]);
          expectOneOf(req.customerMasterKeySpec, "CustomerMasterKeySpec", [SYMMETRIC_DEFAULT]);
          expectOneOf(req.origin, "Origin", ["AWS_KMS"]);
          const meta = await engine.createKey({
            keyUsage: "ENCRYPT_DECRYPT",
            description: req.description,
            tags: tagRecord(req.tags),
          });
          const region = regionOf(ctx);
          return {
            keyMetadata: awsKeyMetadata(meta, ids.keyArn(region, meta.keyId), ids.accountId),
          };
        },
        (r) => ({ keyIds: r.keyMetadata.keyId ? [r.keyMetadata.keyId] : [] }),
      ),
    describeKey: (req, ctx) =>
      keyCall(ctx, req.keyId, async (keyId, region) => {
        checkGrantTokens(req.grantTokens);
        const meta = await engine.describeKey(keyId);
        return { keyMetadata: awsKeyMetadata(meta, ids.keyArn(region, keyId), ids.accountId) };
      }),
    listKeys: (req, ctx) =>
      call(ctx, NO_KEYS, async () => {
        const limit = intInRange(req.limit, "Limit", 1, 1000);
        const page = await engine.listKeys({ limit: limit ?? 100, marker: req.marker });
        const region = regionOf(ctx);
        return {
          keys: page.keys.map((k) => ({ keyId: k.keyId, keyArn: ids.keyArn(region, k.keyId) })),
          truncated: page.truncated,
          nextMarker: page.nextMarker ?? undefined,
        };
      }),
    enableKey: (req, ctx) =>
      keyCall(ctx, req.keyId, async (keyId) => {
        await engine.enableKey(keyId);
        return {};
      }),
    disableKey: (req, ctx) =>
      keyCall(ctx, req.keyId, async (keyId) => {
        await engine.disableKey(keyId);
        return {};
      }),
    scheduleKeyDeletion: (req, ctx) =>
      keyCall(ctx, req.keyId, async (keyId, region) => {
        const window = req.pendingWindowInDays ?? DEFAULT_DELETION_WINDOW_DAYS;
        const meta = await engine.scheduleKeyDeletion(keyId, window);
        return {
          keyId: ids.keyArn(region, keyId),
          deletionDate: meta.deletionDate ? epochSeconds(meta.deletionDate) : undefined,
          keyState: meta.keyState,
          pendingWindowInDays: window,
        };
      }),
    cancelKeyDeletion: (req, ctx) =>
      keyCall(ctx, req.keyId, async (keyId, region) => {
        await engine.cancelKeyDeletion(keyId);
        return { keyId: ids.keyArn(region, keyId) };
      }),
    updateKeyDescription: (req, ctx) =>
      keyCall(ctx, req.keyId, async (keyId) => {
        await engine.updateKeyDescription(keyId, req.description);
        return {};
      }),
    tagResource: (req, ctx) =>
      keyCall(ctx, req.keyId, async (keyId) => {
        if (req.tags.length === 0) throw invalid("Tags must hold at least one tag");
        await engine.tagKey(keyId, tagRecord(req.tags));
        return {};
      }),
    untagResource: (req, ctx) =>
      keyCall(ctx, req.keyId, async (keyId) => {
        if (req.tagKeys.length === 0 || req.tagKeys.length > MAX_TAGS) {
          throw invalid(`TagKeys must hold 1-${MAX_TAGS} tag keys`);
        }
        await engine.untagKey(keyId, req.tagKeys);
        return {};
      }),
    listResourceTags: (req, ctx) =>
      keyCall(ctx, req.keyId, async (keyId) => {
        const limit = intInRange(req.limit, "Limit", 1, 50) ?? 50;
        const meta = await engine.describeKey(keyId);
        // The marker is the last tag key of the previous page (tags are few, at most 50).
        const after = req.marker;
        const rest = tagList(meta.tags).filter((t) => after === undefined || t.tagKey > after);
        const page = rest.slice(0, limit);
        const truncated = rest.length > limit;
        return {
          tags: page,
          truncated,
          nextMarker: truncated ? page[page.length - 1]?.tagKey : undefined,
        };
      }),
    encrypt: (req, ctx) =>
      keyCall(
        ctx,
        req.keyId,
        async (keyId, region) => {
          checkCommon(req);
          checkAlgorithm(req.encryptionAlgorithm, "EncryptionAlgorithm");
          checkBytes(req.plaintext, "Plaintext", MAX_PLAINTEXT_BYTES);
          const out = await engine.encrypt({
            keyId,
            plaintext: req.plaintext,
            encryptionContext: req.encryptionContext,
          });
          return {
            ciphertextBlob: out.ciphertextBlob,
            keyId: ids.keyArn(region, out.keyId),
            encryptionAlgorithm: SYMMETRIC_DEFAULT,
          };
        },
        { encryptionContext: req.encryptionContext },
        wrappedOutcome,
      ),
    decrypt: async (req, ctx) => {
      // Authorized against the key the ciphertext names (read from its header, nothing
      // decrypted); a KeyId given must name that same key (IncorrectKeyException).
      const region = regionOf(ctx);
      const envelope = envelopeOf(req.ciphertextBlob);
      const named =
        req.keyId === undefined || req.keyId === ""
          ? undefined
          : await settle(resolve(req.keyId, region));
      const keyIds = envelope === undefined || named instanceof Failure ? [] : [envelope.keyId];
      return call(
        ctx,
        { keyIds, encryptionContext: req.encryptionContext },
        async () => {
          checkCommon(req);
          checkRecipient(req.recipient);
          checkAlgorithm(req.encryptionAlgorithm, "EncryptionAlgorithm");
          checkBytes(req.ciphertextBlob, "CiphertextBlob", MAX_CIPHERTEXT_BYTES);
          if (named instanceof Failure) return named.reject();
          if (named !== undefined && envelope !== undefined && named !== envelope.keyId) {
            throw incorrectKey("KeyId");
          }
          const out = await engine.decrypt({
            ciphertextBlob: req.ciphertextBlob,
            encryptionContext: req.encryptionContext,
          });
          return {
            keyId: ids.keyArn(region, out.keyId),
            plaintext: out.plaintextKey,
            encryptionAlgorithm: SYMMETRIC_DEFAULT,
          };
        },
        () => ({ keyVersion: envelope?.keyVersion ?? null }),
      );
    },
    reEncrypt: async (req, ctx) => {
      // Both keys must be allowed: the one inside the ciphertext and the destination.
      const region = regionOf(ctx);
      const source = envelopeOf(req.ciphertextBlob)?.keyId;
      const destination = await settle(resolve(req.destinationKeyId, region, "DestinationKeyId"));
      const namedSource =
        req.sourceKeyId === undefined || req.sourceKeyId === ""
          ? undefined
          : await settle(resolve(req.sourceKeyId, region, "SourceKeyId"));
      const resolved = !(destination instanceof Failure) && !(namedSource instanceof Failure);
      const keyIds =
        source === undefined || !resolved ? [] : [...new Set([source, destination as string])];
      return call(
        ctx,
        {
          keyIds,
          encryptionContext: req.sourceEncryptionContext,
          destinationEncryptionContext: req.destinationEncryptionContext,
        },
        async () => {
          checkCommon(req);
          checkAlgorithm(req.sourceEncryptionAlgorithm, "SourceEncryptionAlgorithm");
          checkAlgorithm(req.destinationEncryptionAlgorithm, "DestinationEncryptionAlgorithm");
          checkBytes(req.ciphertextBlob, "CiphertextBlob", MAX_CIPHERTEXT_BYTES);
          if (destination instanceof Failure) return destination.reject();
          if (namedSource instanceof Failure) return namedSource.reject();
          if (namedSource !== undefined && source !== undefined && namedSource !== source) {
            throw incorrectKey("SourceKeyId");
          }
          const out = await engine.reEncrypt({
            ciphertextBlob: req.ciphertextBlob,
            encryptionContext: req.sourceEncryptionContext,
            destinationKeyId: destination,
            destinationEncryptionContext: req.destinationEncryptionContext,
          });
          return {
            ciphertextBlob: out.ciphertextBlob,
            sourceKeyId: ids.keyArn(region, out.sourceKeyId),
            keyId: ids.keyArn(region, out.keyId),
            sourceEncryptionAlgorithm: SYMMETRIC_DEFAULT,
            destinationEncryptionAlgorithm: SYMMETRIC_DEFAULT,
          };
        },
        wrappedOutcome,
      );
    },
    generateDataKey: (req, ctx) =>
      keyCall(
        ctx,
        req.keyId,
        async (keyId, region) => {
          checkCommon(req);
          checkRecipient(req.recipient);
          const out = await engine.generateDataKey({
            keyId,
            ...dataKeySize(req),
            encryptionContext: req.encryptionContext,
          });
          return {
            ciphertextBlob: out.ciphertextBlob,
            plaintext: out.plaintextKey,
            keyId: ids.keyArn(region, out.keyId),
          };
        },
        { encryptionContext: req.encryptionContext },
        wrappedOutcome,
      ),
    generateDataKeyWithoutPlaintext: (req, ctx) =>
      keyCall(
        ctx,
        req.keyId,
        async (keyId, region) => {
          checkCommon(req);
          const out = await engine.generateDataKeyWithoutPlaintext({
            keyId,
            ...dataKeySize(req),
            encryptionContext: req.encryptionContext,
          });
          return { ciphertextBlob: out.ciphertextBlob, keyId: ids.keyArn(region, out.keyId) };
        },
        { encryptionContext: req.encryptionContext },
        wrappedOutcome,
      ),
    generateRandom: (req, ctx) =>
      call(ctx, NO_KEYS, async () => {
        if (req.customKeyStoreId !== undefined) throw unsupported("CustomKeyStoreId");
        checkRecipient(req.recipient);
        const n = intInRange(req.numberOfBytes, "NumberOfBytes", 1, MAX_RANDOM_BYTES);
        if (n === undefined) throw invalid("NumberOfBytes is required");
        return { plaintext: new Uint8Array(randomBytes(n)) };
      }),
    enableKeyRotation: (req, ctx) =>
      keyCall(ctx, req.keyId, async (keyId) => {
        await engine.enableKeyRotation(keyId, req.rotationPeriodInDays);
        return {};
      }),
    disableKeyRotation: (req, ctx) =>
      keyCall(ctx, req.keyId, async (keyId) => {
        await engine.disableKeyRotation(keyId);
        return {};
      }),
    getKeyRotationStatus: (req, ctx) =>
      keyCall(ctx, req.keyId, async (keyId, region) => {
        const status = await engine.getKeyRotationStatus(keyId);
        return {
          keyRotationEnabled: status.rotationEnabled,
          keyId: ids.keyArn(region, keyId),
          rotationPeriodInDays: status.rotationPeriodInDays ?? undefined,
          nextRotationDate: status.nextRotationDate
            ? epochSeconds(status.nextRotationDate)
            : undefined,
        };
      }),
    rotateKeyOnDemand: (req, ctx) =>
      keyCall(ctx, req.keyId, async (keyId, region) => {
        await engine.rotateKey(keyId);
        return { keyId: ids.keyArn(region, keyId) };
      }),
    listKeyRotations: (req, ctx) =>
      keyCall(ctx, req.keyId, async (keyId) => {
        const limit = intInRange(req.limit, "Limit", 1, 1000);
        const page = await engine.listKeyRotations(keyId, { limit, marker: req.marker });
        return {
          rotations: page.rotations.map((r) => ({
            keyId: r.keyId,
            rotationDate: epochSeconds(r.rotationDate),
            rotationType: r.rotationType,
          })),
          truncated: page.truncated,
          nextMarker: page.nextMarker ?? undefined,
        };
      }),
    createAlias: async (req, ctx) => {
      const region = regionOf(ctx);
      const target = await settle(resolveKeyOnly(req.targetKeyId, region, "TargetKeyId"));
      return call(ctx, { keyIds: target instanceof Failure ? [] : [target] }, async () => {
        if (target instanceof Failure) return target.reject();
        await engine.createAlias(req.aliasName, target);
        return {};
      });
    },
    updateAlias: async (req, ctx) => {
      // Both the key the alias names now and the one it will name must be allowed.
      const region = regionOf(ctx);
      const current = await settle(resolveAliasName(req.aliasName));
      const target = await settle(resolveKeyOnly(req.targetKeyId, region, "TargetKeyId"));
      const failure = [current, target].find((r) => r instanceof Failure);
      return call(
        ctx,
        { keyIds: failure ? [] : [...new Set([current as string, target as string])] },
        async () => {
          if (failure instanceof Failure) return failure.reject();
          await engine.updateAlias(req.aliasName, target as string);
          return {};
        },
      );
    },
    deleteAlias: async (req, ctx) => {
      const current = await settle(resolveAliasName(req.aliasName));
      return call(ctx, { keyIds: current instanceof Failure ? [] : [current] }, async () => {
        if (current instanceof Failure) return current.reject();
        await engine.deleteAlias(req.aliasName);
        return {};
      });
    },
    listAliases: async (req, ctx) => {
      const region = regionOf(ctx);
      return call(ctx, NO_KEYS, async () => {
        const limit = intInRange(req.limit, "Limit", 1, 100) ?? 50;
        const keyId =
          req.keyId === undefined || req.keyId === ""
            ? undefined
            : await resolveKeyOnly(req.keyId, region, "KeyId");
        const page = await engine.listAliases({ keyId, limit, marker: req.marker });
        return {
          aliases: page.aliases.map((a) => ({
            aliasName: a.aliasName,
            aliasArn: ids.aliasArn(region, a.aliasName),
            targetKeyId: a.targetKeyId,
            creationDate: epochSeconds(a.creationDate),
            lastUpdatedDate: epochSeconds(a.lastUpdatedDate),
          })),
          truncated: page.truncated,
          nextMarker: page.nextMarker ?? undefined,
        };
      });
    },
  };

  /** resolveAliasName is the key an `alias/…` names (AliasName fields take no other form). */
  function resolveAliasName(aliasName: string): Promise<string> {
    if (!aliasName.startsWith("alias/")) {
      return Promise.reject(invalid("AliasName must begin with alias/"));
    }
    return engine.resolveAlias(aliasName);
  }
}

/** Failure holds the error of a resolution whose answer waits until the call is authorized. */
class Failure {
  constructor(readonly cause: unknown) {}
  reject(): Promise<never> {
    return Promise.reject(this.cause);
  }
}

function invalid(message: string): KmsError {
  return new KmsError("INVALID_ARGUMENT", message);
}

function notFound(message: string): KmsError {
  return new KmsError("KEY_NOT_FOUND", message);
}

function unsupported(what: string): Error {
  return awsException(
    "UnsupportedOperationException",
    `${what.includes(":") ? what : `${what} is not supported`}`,
    Code.InvalidArgument,
  );
}

function incorrectKey(field: string): Error {
  return awsException(
    "IncorrectKeyException",
    `the ciphertext was not made with the key that ${field} names`,
    Code.InvalidArgument,
  );
}

/** intInRange checks an optional integer against AWS's bounds, naming the field, never the value. */
function intInRange(
  value: number | undefined,
  field: string,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw invalid(`${field} must be an integer between ${min} and ${max}`);
  }
  return value;
}

/** expectOneOf checks an optional enumerated string; values this KMS cannot serve are unsupported. */
function expectOneOf(value: string | undefined, field: string, allowed: readonly string[]): void {
  if (value !== undefined && !allowed.includes(value)) {
    throw unsupported(`${field}: only ${allowed.join(", ")} is supported`);
  }
}

/** checkAlgorithm accepts SYMMETRIC_DEFAULT (AES-256-GCM), the only algorithm of a symmetric key. */
function checkAlgorithm(value: string | undefined, field: string): void {
  if (value !== undefined && value !== SYMMETRIC_DEFAULT) {
    throw awsException(
      "InvalidKeyUsageException",
      `${field}: a symmetric key supports only ${SYMMETRIC_DEFAULT}`,
      Code.InvalidArgument,
    );
  }
}

function checkBytes(value: Uint8Array, field: string, max: number): void {
  if (value.byteLength < 1 || value.byteLength > max) {
    throw invalid(`${field} must be 1-${max} bytes`);
  }
}

/** checkCommon checks the members several operations share: GrantTokens (ignored) and DryRun (refused). */
function checkCommon(req: { grantTokens: string[]; dryRun?: boolean }): void {
  checkGrantTokens(req.grantTokens);
  if (req.dryRun === true) throw unsupported("DryRun");
}

/** checkGrantTokens bounds GrantTokens, which are accepted and ignored: there are no grants here. */
function checkGrantTokens(tokens: readonly string[]): void {
  if (tokens.length > MAX_GRANT_TOKENS || tokens.some((t) => t.length < 1 || t.length > 8192)) {
    throw invalid(`GrantTokens must hold at most ${MAX_GRANT_TOKENS} tokens of 1-8192 characters`);
  }
}

function checkRecipient(recipient: RecipientInfo | undefined): void {
  if (recipient !== undefined) throw unsupported("Recipient");
}

/** dataKeySize is the engine's spelling of a data key's size: exactly one of KeySpec and NumberOfBytes. */
function dataKeySize(req: { keySpec?: string; numberOfBytes?: number }): {
  keySpec?: string;
  numberOfBytes?: number;
} {
  if ((req.keySpec === undefined) === (req.numberOfBytes === undefined)) {
    throw invalid("give exactly one of KeySpec and NumberOfBytes");
  }
  if (req.keySpec !== undefined) {
    if (req.keySpec !== "AES_256" && req.keySpec !== "AES_128") {
      throw invalid("KeySpec must be AES_256 or AES_128");
    }
    return { keySpec: req.keySpec };
  }
  return { numberOfBytes: intInRange(req.numberOfBytes, "NumberOfBytes", 1, 1024) };
}

/** tagRecord converts AWS's tag list to the engine's map, within AWS's bounds and without duplicates. */
function tagRecord(tags: readonly Tag[]): Record<string, string> {
  if (tags.length > MAX_TAGS) throw invalid(`Tags must hold at most ${MAX_TAGS} tags`);
  const record: Record<string, string> = {};
  for (const { tagKey, tagValue } of tags) {
    if (tagKey.length < 1 || tagKey.length > 128 || tagValue.length > 256) {
      throw invalid("each TagKey must be 1-128 characters and each TagValue 0-256");
    }
    if (tagKey === "__proto__" || Object.hasOwn(record, tagKey)) {
      throw invalid("Tags must not repeat a TagKey (nor use __proto__)");
    }
    record[tagKey] = tagValue;
  }
  return record;
}
