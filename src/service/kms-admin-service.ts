import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import type {
  KmsAdminService,
  ScheduleKeyDeletionRequest,
} from "../../gen/kms/admin/v1/service_pb.js";
import { KmsError } from "../engine/errors.js";
import type { KeyMetadata, KmsEngine, StatusView } from "../engine/types.js";
import { callerKey } from "./caller.js";
import { connectErrorFromKms, errorCodeHeader } from "./connect-error-from-kms.js";
import { configPatchFromMessage } from "./from-messages.js";
import {
  backendStatusOf,
  configSummaryMessage,
  keyListEntryMessages,
  keyMetadataMessage,
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

/** KmsAdminServiceOptions tune createKmsAdminService. */
export interface KmsAdminServiceOptions {
  log?: ServiceLog;
  /**
   * Lets ScheduleKeyDeletion honour `force_immediate: true` (with
   * `confirm_key_id` repeating the key id), as RustFS's
   * RUSTFS_KMS_ALLOW_IMMEDIATE_DELETION does; off by default.
   */
  allowImmediateDeletion?: boolean;
}

/**
 * createKmsAdminService builds the one implementation of KmsAdminService that
 * every protocol (REST, Connect, gRPC, gRPC-Web) calls, from an injected
 * engine. Each handler checks the caller the edge established, calls the
 * engine and converts its plain values to message init shapes.
 */
export function createKmsAdminService(
  engine: KmsEngine,
  options: KmsAdminServiceOptions = {},
): ServiceImpl<typeof KmsAdminService> {
  async function call<T>(ctx: HandlerContext, op: () => Promise<T> | T): Promise<T> {
    const caller = ctx.values.get(callerKey);
    if (!caller.authenticated) {
      throw new ConnectError(caller.reason, Code.Unauthenticated, {
        [errorCodeHeader]: "AccessDenied",
      });
    }
    try {
      return await op();
    } catch (err) {
      const connectError = connectErrorFromKms(err);
      if (connectError.code === Code.Internal) {
        options.log?.("error", "request failed", { method: ctx.method.name, cause: err });
      }
      throw connectError;
    }
  }

  /**
   * keyCall runs a key operation that answers `{key_metadata}`, with the
   * `success` and `message` RustFS clients read beside it.
   */
  function keyCall(ctx: HandlerContext, message: string, op: () => Promise<KeyMetadata>) {
    return call(ctx, async () => ({
      keyMetadata: keyMetadataMessage(await op()),
      success: true,
      message,
    }));
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

  return {
    configure: (req, ctx) =>
      call(ctx, () =>
        engine.configure(configPatchFromMessage(req.config), { requireMasterKey: true }),
      ),
    reconfigure: (req, ctx) =>
      call(ctx, () => engine.reconfigure(configPatchFromMessage(req.config))),
    startService: (req, ctx) => call(ctx, () => engine.start({ force: req.force === true })),
    stopService: (_req, ctx) => call(ctx, () => engine.stop()),
    getStatus: (_req, ctx) =>
      call(ctx, async () => {
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
      call(ctx, () => {
        const config = engine.config();
        return {
          backend: config.backend ?? undefined,
          cacheEnabled: config.cacheEnabled,
          cacheMaxKeys: config.cacheMaxKeys,
          cacheTtlSeconds: config.cacheTtlSeconds,
          defaultKeyId: config.defaultKeyId ?? undefined,
        };
      }),
    clearCache: (_req, ctx) => call(ctx, () => engine.clearCache()).then(() => ({})),
    rekeyMaster: (req, ctx) =>
      call(ctx, () =>
        engine.rekeyMaster({
          masterKey: req.masterKey,
          masterKeyFile: req.masterKeyFile,
          masterKeyEnv: req.masterKeyEnv,
        }),
      ),
    createKey: (req, ctx) =>
      call(ctx, async () => {
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
      }),
    listKeys: (req, ctx) =>
      call(ctx, async () => {
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
      keyCall(ctx, "key described successfully", () => engine.describeKey(req.keyId)),
    scheduleKeyDeletion: (req, ctx) =>
      call(ctx, async () => {
        const { meta, message } = await scheduleDeletion(req);
        const keyMetadata = keyMetadataMessage(meta);
        return { keyMetadata, success: true, message, deletionDate: keyMetadata.deletionDate };
      }),
    cancelKeyDeletion: (req, ctx) =>
      keyCall(ctx, "key deletion cancelled", () => engine.cancelKeyDeletion(req.keyId)),
    generateDataKey: (req, ctx) =>
      call(ctx, () =>
        engine.generateDataKey({
          keyId: req.keyId,
          keySpec: req.keySpec,
          encryptionContext: req.encryptionContext,
        }),
      ),
    decrypt: (req, ctx) =>
      call(ctx, () =>
        engine.decrypt({
          ciphertextBlob: req.ciphertextBlob,
          encryptionContext: req.encryptionContext,
        }),
      ),
    enableKey: (req, ctx) => keyCall(ctx, "key enabled", () => engine.enableKey(req.keyId)),
    disableKey: (req, ctx) => keyCall(ctx, "key disabled", () => engine.disableKey(req.keyId)),
    rotateKey: (req, ctx) => keyCall(ctx, "key rotated", () => engine.rotateKey(req.keyId)),
    updateKeyDescription: (req, ctx) =>
      keyCall(ctx, "key description updated", () =>
        engine.updateKeyDescription(req.keyId, req.description),
      ),
    tagKey: (req, ctx) => keyCall(ctx, "key tagged", () => engine.tagKey(req.keyId, req.tags)),
    untagKey: (req, ctx) =>
      keyCall(ctx, "key untagged", () => engine.untagKey(req.keyId, req.tagKeys)),
    generateDataKeyWithoutPlaintext: (req, ctx) =>
      call(ctx, () =>
        engine.generateDataKeyWithoutPlaintext({
          keyId: req.keyId,
          keySpec: req.keySpec,
          encryptionContext: req.encryptionContext,
        }),
      ),
    encrypt: (req, ctx) =>
      call(ctx, () =>
        engine.encrypt({
          keyId: req.keyId,
          plaintext: req.plaintext,
          encryptionContext: req.encryptionContext,
        }),
      ),
    reEncrypt: (req, ctx) =>
      call(ctx, () =>
        engine.reEncrypt({
          ciphertextBlob: req.ciphertextBlob,
          encryptionContext: req.encryptionContext,
          destinationKeyId: req.destinationKeyId,
          destinationEncryptionContext: req.destinationEncryptionContext,
        }),
      ),
  };
}
