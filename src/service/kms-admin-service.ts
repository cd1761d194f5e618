import type { DescMethod } from "@bufbuild/protobuf";
import { Code, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import {
  KmsAdminService,
  type ScheduleKeyDeletionRequest,
} from "../../gen/kms/admin/v1/service_pb.js";
import { parseAnyEnvelope } from "../engine/backend-envelope.js";
import { KmsError } from "../engine/errors.js";
import type { KeyMetadata, KmsEngine, RotationStatus, StatusView } from "../engine/types.js";
import {
  type CallAuthorizer,
  type CallFacts,
  defaultAuthorizerOf,
  type ResultFacts,
} from "./call-authorizer.js";
import { callerKey } from "./caller.js";
import { connectErrorFromKms } from "./connect-error-from-kms.js";
import { configPatchFromMessage } from "./from-messages.js";
import {
  aliasEntryMessage,
  backendStatusOf,
  configSummaryMessage,
  keyListEntryMessages,
  keyMetadataMessage,
  keyRotationMessage,
  rotationStatusMessage,
} from "./to-messages.js";

/** ServiceLog receives the real cause of internal errors, which clients never see. */
export type ServiceLog = (
  level: "error",
  message: string,
  fields: { method: string; cause: unknown },
) => void;

/**
 * rustfsStatusFields are the status fields RustFS clients read beside the
 * documented ones: `backend_status` once a configuration exists (RustFS's own
 * status answers nothing before), `default_key_id` while one is configured.
 */
function rustfsStatusFields(status: StatusView) {
  const defaultKeyId = status.configSummary?.defaultKeyId ?? null;
  return {
    backendStatusPresent:
      status.status === "NotConfigured"
        ? { case: undefined }
        : { case: "backendStatus" as const, value: backendStatusOf(status) },
    defaultKeyIdPresent:
      defaultKeyId === null
        ? { case: undefined }
        : { case: "defaultKeyId" as const, value: defaultKeyId },
  };
}

/** KmsAdminServiceOptions configure createKmsAdminService. */
export interface KmsAdminServiceOptions {
  log?: ServiceLog;
  /**
   * Authorizes and audits every call; the gateway passes the one it also hands the
   * edge and the REST transcoder. Without one, calls are authorized by the caller's
   * own permissions against the proto's action table, and nothing is audited.
   */
  authorizer?: CallAuthorizer;
  /**
   * Lets ScheduleKeyDeletion honour `force_immediate: true` (with
   * `confirm_key_id` repeating the key id), as RustFS's
   * RUSTFS_KMS_ALLOW_IMMEDIATE_DELETION does; off by default.
   */
  allowImmediateDeletion?: boolean;
}

const NO_KEYS: CallFacts = { keyIds: [] };

/**
 * createKmsAdminService builds the one implementation of KmsAdminService that
 * every protocol (REST, Connect, gRPC, gRPC-Web) calls, from an injected
 * engine. Each handler names the keys its request touches (for decrypt and
 * re-encrypt, the key inside the ciphertext), runs the engine call through the
 * authorizer (authenticated? allowed on those keys? audited) and converts its
 * plain values to message init shapes.
 */
export function createKmsAdminService(
  engine: KmsEngine,
  options: KmsAdminServiceOptions = {},
): ServiceImpl<typeof KmsAdminService> {
  const authorizer = options.authorizer ?? defaultAuthorizerOf(KmsAdminService);

  async function call<T>(
    ctx: HandlerContext,
    facts: CallFacts,
    op: () => Promise<T> | T,
    outcomeOf?: (result: T) => ResultFacts,
  ): Promise<T> {
    try {
      return await authorizer.run(
        ctx.values.get(callerKey),
        ctx.method as DescMethod,
        facts,
        async () => op(),
        outcomeOf,
      );
    } catch (err) {
      const connectError = connectErrorFromKms(err);
      if (connectError.code === Code.Internal) {
        // The authorizer has already turned an engine error into a ConnectError; its cause is the news.
        const cause = connectError.cause ?? err;
        options.log?.("error", "request failed", { method: ctx.method.name, cause });
      }
      throw connectError;
    }
  }

  /**
   * keyCall runs a key operation that answers `{key_metadata}`, with the
   * `success` and `message` RustFS clients read beside it.
   */
  function keyCall(
    ctx: HandlerContext,
    keyId: string,
    message: string,
    op: () => Promise<KeyMetadata>,
  ) {
    return call(
      ctx,
      { keyIds: [keyId] },
      async () => ({ keyMetadata: keyMetadataMessage(await op()), success: true, message }),
      (r) => ({ keyVersion: r.keyMetadata.keyVersion }),
    );
  }

  /**
   * scheduleDeletion schedules a key's deletion, or, for `force_immediate`,
   * destroys it now — only on a server started with --allow-immediate-deletion
   * and when `confirm_key_id` repeats the key id, since it cannot be undone.
   */
  async function scheduleDeletion(req: ScheduleKeyDeletionRequest) {
    if (req.forceImmediate !== true) {
      const meta = await engine.scheduleKeyDeletion(req.keyId, req.pendingWindowInDays);
      return { meta, message: "key scheduled for deletion" };
    }
    if (options.allowImmediateDeletion !== true) {
      throw new KmsError(
        "INVALID_ARGUMENT",
        "force_immediate is refused: immediate deletion is disabled on this server " +
          "(start it with --allow-immediate-deletion)",
      );
    }
    if (req.confirmKeyId !== req.keyId) {
      throw new KmsError(
        "INVALID_ARGUMENT",
        "force_immediate requires confirm_key_id to repeat key_id exactly",
      );
    }
    return { meta: await engine.destroyKeyNow(req.keyId), message: "key deleted immediately" };
  }

  /**
   * aliasKeyIds are the keys an alias call is authorized on: `keyId` (the key
   * it will name) and the key the alias names now, when it names one (AWS asks
   * for the alias action on both). An unknown alias adds none, so only a
   * statement not scoped to keys allows the call, which then answers 404.
   */
  async function aliasKeyIds(aliasName: string, keyId?: string): Promise<string[]> {
    let current: string | null = null;
    try {
      current = await engine.resolveAlias(aliasName);
    } catch {
      // Unknown alias, bad name, or a key gone: the engine call says which.
    }
    return [...new Set([keyId, current].filter((id): id is string => !!id))];
  }

  /** rotationCall runs a rotation-setting call on one key, answering `{rotation}`. */
  function rotationCall(
    ctx: HandlerContext,
    keyId: string,
    message: string,
    op: () => Promise<RotationStatus>,
  ) {
    return call(ctx, { keyIds: [keyId] }, async () => ({
      rotation: rotationStatusMessage(await op()),
      success: true,
      message,
    }));
  }

  /** wrapKeyIds is the key a wrap will use: the one named, else the default key (none when neither). */
  function wrapKeyIds(keyId: string | undefined): string[] {
    const id = keyId || engine.config().defaultKeyId;
    return id ? [id] : [];
  }

  return {
    configure: (req, ctx) =>
      call(ctx, NO_KEYS, () =>
        engine.configure(configPatchFromMessage(req.config), { requireMasterKey: true }),
      ),
    reconfigure: (req, ctx) =>
      call(ctx, NO_KEYS, () => engine.reconfigure(configPatchFromMessage(req.config))),
    startService: (req, ctx) =>
      call(ctx, NO_KEYS, () => engine.start({ force: req.force === true })),
    stopService: (_req, ctx) => call(ctx, NO_KEYS, () => engine.stop()),
    getStatus: (_req, ctx) =>
      call(ctx, NO_KEYS, async () => {
        const status = await engine.status();
        return {
          status: status.status,
          backendType: status.backendType ?? undefined,
          healthy: status.healthy,
          configSummary: status.configSummary
            ? configSummaryMessage(status.configSummary)
            : undefined,
          cacheStats: status.cacheStats ?? undefined,
          ...rustfsStatusFields(status),
        };
      }),
    getConfig: (_req, ctx) =>
      call(ctx, NO_KEYS, () => {
        const config = engine.config();
        return {
          backend: config.backend ?? undefined,
          cacheEnabled: config.cacheEnabled,
          cacheMaxKeys: config.cacheMaxKeys,
          cacheTtlSeconds: config.cacheTtlSeconds,
          defaultKeyId: config.defaultKeyId ?? undefined,
        };
      }),
    clearCache: (_req, ctx) => call(ctx, NO_KEYS, () => engine.clearCache()).then(() => ({})),
    rekeyMaster: (req, ctx) =>
      call(ctx, NO_KEYS, () =>
        engine.rekeyMaster({
          masterKey: req.masterKey,
          masterKeyFile: req.masterKeyFile,
          masterKeyEnv: req.masterKeyEnv,
        }),
      ),
    createKey: (req, ctx) =>
      call(
        ctx,
        NO_KEYS,
        async () => {
          const meta = await engine.createKey({
            keyUsage: req.keyUsage,
            description: req.description,
            tags: req.tags,
          });
          return {
            keyId: meta.keyId,
            keyMetadata: keyMetadataMessage(meta),
            success: true,
            message: "key created successfully",
          };
        },
        (r) => ({ keyIds: [r.keyId], keyVersion: r.keyMetadata.keyVersion }),
      ),
    listKeys: (req, ctx) =>
      call(ctx, NO_KEYS, async () => {
        const page = await engine.listKeys({ limit: req.limit, marker: req.marker });
        return {
          keys: keyListEntryMessages(page),
          truncated: page.truncated,
          nextMarker: page.nextMarker ?? undefined,
          unreadableKeyIds: page.unreadableKeyIds,
          success: true,
          message: "keys listed successfully",
        };
      }),
    describeKey: (req, ctx) =>
      keyCall(ctx, req.keyId, "key described successfully", () => engine.describeKey(req.keyId)),
    scheduleKeyDeletion: (req, ctx) =>
      call(
        ctx,
        { keyIds: [req.keyId] },
        async () => {
          const { meta, message } = await scheduleDeletion(req);
          const keyMetadata = keyMetadataMessage(meta);
          return { keyMetadata, success: true, message, deletionDate: keyMetadata.deletionDate };
        },
        (r) => ({ keyVersion: r.keyMetadata.keyVersion }),
      ),
    cancelKeyDeletion: (req, ctx) =>
      keyCall(ctx, req.keyId, "key deletion cancelled", () => engine.cancelKeyDeletion(req.keyId)),
    generateDataKey: (req, ctx) =>
      call(
        ctx,
        { keyIds: wrapKeyIds(req.keyId), encryptionContext: req.encryptionContext },
        () =>
          engine.generateDataKey({
            keyId: req.keyId,
            keySpec: req.keySpec,
            numberOfBytes: req.numberOfBytes,
            encryptionContext: req.encryptionContext,
          }),
        (r) => ({ keyVersion: envelopeOf(r.ciphertextBlob)?.keyVersion ?? null }),
      ),
    decrypt: (req, ctx) => {
      // Authorized against the key the ciphertext names (read from its header,
      // nothing decrypted), never against anything else the caller says.
      const envelope = envelopeOf(req.ciphertextBlob);
      return call(
        ctx,
        { keyIds: envelope ? [envelope.keyId] : [], encryptionContext: req.encryptionContext },
        () =>
          engine.decrypt({
            ciphertextBlob: req.ciphertextBlob,
            encryptionContext: req.encryptionContext,
          }),
        () => ({ keyVersion: envelope?.keyVersion ?? null }),
      );
    },
    enableKey: (req, ctx) =>
      keyCall(ctx, req.keyId, "key enabled", () => engine.enableKey(req.keyId)),
    disableKey: (req, ctx) =>
      keyCall(ctx, req.keyId, "key disabled", () => engine.disableKey(req.keyId)),
    rotateKey: (req, ctx) =>
      keyCall(ctx, req.keyId, "key rotated", () => engine.rotateKey(req.keyId)),
    updateKeyDescription: (req, ctx) =>
      keyCall(ctx, req.keyId, "key description updated", () =>
        engine.updateKeyDescription(req.keyId, req.description),
      ),
    tagKey: (req, ctx) =>
      keyCall(ctx, req.keyId, "key tagged", () => engine.tagKey(req.keyId, req.tags)),
    untagKey: (req, ctx) =>
      keyCall(ctx, req.keyId, "key untagged", () => engine.untagKey(req.keyId, req.tagKeys)),
    generateDataKeyWithoutPlaintext: (req, ctx) =>
      call(
        ctx,
        { keyIds: wrapKeyIds(req.keyId), encryptionContext: req.encryptionContext },
        () =>
          engine.generateDataKeyWithoutPlaintext({
            keyId: req.keyId,
            keySpec: req.keySpec,
            numberOfBytes: req.numberOfBytes,
            encryptionContext: req.encryptionContext,
          }),
        (r) => ({ keyVersion: envelopeOf(r.ciphertextBlob)?.keyVersion ?? null }),
      ),
    encrypt: (req, ctx) =>
      call(
        ctx,
        { keyIds: wrapKeyIds(req.keyId), encryptionContext: req.encryptionContext },
        () =>
          engine.encrypt({
            keyId: req.keyId,
            plaintext: req.plaintext,
            encryptionContext: req.encryptionContext,
          }),
        (r) => ({ keyVersion: envelopeOf(r.ciphertextBlob)?.keyVersion ?? null }),
      ),
    reEncrypt: (req, ctx) => {
      // Both keys must be allowed: the one inside the ciphertext and the
      // destination (the source key again when none is named).
      const source = envelopeOf(req.ciphertextBlob)?.keyId;
      const destination = req.destinationKeyId || source;
      const keyIds = source === undefined ? [] : [...new Set([source, destination as string])];
      return call(
        ctx,
        {
          keyIds,
          encryptionContext: req.encryptionContext,
          destinationEncryptionContext: req.destinationEncryptionContext,
        },
        () =>
          engine.reEncrypt({
            ciphertextBlob: req.ciphertextBlob,
            encryptionContext: req.encryptionContext,
            destinationKeyId: req.destinationKeyId,
            destinationEncryptionContext: req.destinationEncryptionContext,
          }),
        (r) => ({ keyVersion: envelopeOf(r.ciphertextBlob)?.keyVersion ?? null }),
      );
    },
    createAlias: async (req, ctx) =>
      call(ctx, { keyIds: await aliasKeyIds(req.aliasName, req.keyId) }, async () => ({
        alias: aliasEntryMessage(await engine.createAlias(req.aliasName, req.keyId)),
        success: true,
        message: "alias created",
      })),
    updateAlias: async (req, ctx) =>
      call(ctx, { keyIds: await aliasKeyIds(req.aliasName, req.keyId) }, async () => ({
        alias: aliasEntryMessage(await engine.updateAlias(req.aliasName, req.keyId)),
        success: true,
        message: "alias updated",
      })),
    deleteAlias: async (req, ctx) =>
      call(ctx, { keyIds: await aliasKeyIds(req.aliasName) }, async () => {
        await engine.deleteAlias(req.aliasName);
        return { success: true, message: "alias deleted" };
      }),
    listAliases: (req, ctx) =>
      call(ctx, NO_KEYS, async () => {
        const page = await engine.listAliases({
          keyId: req.keyId,
          limit: req.limit,
          marker: req.marker,
        });
        return {
          aliases: page.aliases.map(aliasEntryMessage),
          truncated: page.truncated,
          nextMarker: page.nextMarker ?? undefined,
          success: true,
          message: "aliases listed successfully",
        };
      }),
    enableKeyRotation: (req, ctx) =>
      rotationCall(ctx, req.keyId, "automatic rotation enabled", () =>
        engine.enableKeyRotation(req.keyId, req.rotationPeriodInDays),
      ),
    disableKeyRotation: (req, ctx) =>
      rotationCall(ctx, req.keyId, "automatic rotation disabled", () =>
        engine.disableKeyRotation(req.keyId),
      ),
    getKeyRotationStatus: (req, ctx) =>
      rotationCall(ctx, req.keyId, "rotation status read", () =>
        engine.getKeyRotationStatus(req.keyId),
      ),
    listKeyRotations: (req, ctx) =>
      call(ctx, { keyIds: [req.keyId] }, async () => {
        const page = await engine.listKeyRotations(req.keyId, {
          limit: req.limit,
          marker: req.marker,
        });
        return {
          rotations: page.rotations.map(keyRotationMessage),
          truncated: page.truncated,
          nextMarker: page.nextMarker ?? undefined,
          success: true,
          message: "rotations listed successfully",
        };
      }),
  };
}

/**
 * envelopeOf reads a ciphertext's header (key id and version) without decrypting
 * it, or undefined when it is not an envelope: such a call can only be allowed by
 * an unscoped statement, and the engine then refuses the ciphertext itself.
 */
export function envelopeOf(blob: Uint8Array): { keyId: string; keyVersion: number } | undefined {
  try {
    const { keyId, keyVersion } = parseAnyEnvelope(blob);
    return { keyId, keyVersion };
  } catch {
    return undefined;
  }
}
