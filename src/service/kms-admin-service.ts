import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import type { KmsAdminService } from "../../gen/kms/admin/v1/service_pb.js";
import type { KeyMetadata, KmsEngine } from "../engine/types.js";
import { callerKey } from "./caller.js";
import { connectErrorFromKms, errorCodeHeader } from "./connect-error-from-kms.js";
import { configPatchFromMessage } from "./from-messages.js";
import { configSummaryMessage, keyListEntryMessages, keyMetadataMessage } from "./to-messages.js";

/** ServiceLog receives the real cause of internal errors, which clients never see. */
export type ServiceLog = (
  level: "error",
  message: string,
  fields: { method: string; cause: unknown },
) => void;

/**
 * createKmsAdminService builds the one implementation of KmsAdminService that
 * every protocol (REST, Connect, gRPC, gRPC-Web) calls, from an injected
 * engine. Each handler checks the caller the edge established, calls the
 * engine and converts its plain values to message init shapes.
 */
export function createKmsAdminService(
  engine: KmsEngine,
  options: { log?: ServiceLog } = {},
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

  /** keyCall runs a key operation that answers `{key_metadata}`. */
  function keyCall(ctx: HandlerContext, op: () => Promise<KeyMetadata>) {
    return call(ctx, async () => ({ keyMetadata: keyMetadataMessage(await op()) }));
  }

  return {
    configure: (req, ctx) => call(ctx, () => engine.configure(configPatchFromMessage(req.config))),
    reconfigure: (req, ctx) =>
      call(ctx, () => engine.reconfigure(configPatchFromMessage(req.config))),
    startService: (_req, ctx) => call(ctx, () => engine.start()),
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
        return { keyId: meta.keyId, keyMetadata: keyMetadataMessage(meta) };
      }),
    listKeys: (req, ctx) =>
      call(ctx, async () => {
        const page = await engine.listKeys({ limit: req.limit, marker: req.marker });
        return {
          keys: keyListEntryMessages(page),
          truncated: page.truncated,
          nextMarker: page.nextMarker ?? undefined,
          unreadableKeyIds: page.unreadableKeyIds,
        };
      }),
    describeKey: (req, ctx) =>
      call(ctx, async () => ({
        keyMetadata: keyMetadataMessage(await engine.describeKey(req.keyId)),
      })),
    scheduleKeyDeletion: (req, ctx) =>
      call(ctx, async () => ({
        keyMetadata: keyMetadataMessage(
          await engine.scheduleKeyDeletion(req.keyId, req.pendingWindowInDays),
        ),
      })),
    cancelKeyDeletion: (req, ctx) =>
      call(ctx, async () => ({
        keyMetadata: keyMetadataMessage(await engine.cancelKeyDeletion(req.keyId)),
      })),
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
    enableKey: (req, ctx) => keyCall(ctx, () => engine.enableKey(req.keyId)),
    disableKey: (req, ctx) => keyCall(ctx, () => engine.disableKey(req.keyId)),
    rotateKey: (req, ctx) => keyCall(ctx, () => engine.rotateKey(req.keyId)),
    updateKeyDescription: (req, ctx) =>
      keyCall(ctx, () => engine.updateKeyDescription(req.keyId, req.description)),
    tagKey: (req, ctx) => keyCall(ctx, () => engine.tagKey(req.keyId, req.tags)),
    untagKey: (req, ctx) => keyCall(ctx, () => engine.untagKey(req.keyId, req.tagKeys)),
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
