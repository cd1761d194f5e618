import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type {
  ConfigSummarySchema,
  KeyListEntrySchema,
  KeyMetadataSchema,
} from "../../gen/kms/admin/v1/types_pb.js";
import type { ConfigSummary, KeyListPage, KeyMetadata } from "../engine/types.js";

/** keyMetadataMessage converts the engine's key metadata to its message; `enabled` is derived. */
export function keyMetadataMessage(meta: KeyMetadata): MessageInitShape<typeof KeyMetadataSchema> {
  return {
    keyId: meta.keyId,
    description: meta.description ?? undefined,
    enabled: meta.keyState === "Enabled",
    keyUsage: meta.keyUsage,
    creationDate: timestampFromDate(meta.creationDate),
    deletionDate: meta.deletionDate ? timestampFromDate(meta.deletionDate) : undefined,
    rotationEnabled: meta.rotationEnabled,
    keyState: meta.keyState,
    keySpec: meta.keySpec,
    tags: meta.tags,
    keyVersion: meta.keyVersion,
    rotationDate: meta.rotationDate ? timestampFromDate(meta.rotationDate) : undefined,
  };
}

/** keyListEntryMessages converts a page of keys to list entries. */
export function keyListEntryMessages(
  page: KeyListPage,
): MessageInitShape<typeof KeyListEntrySchema>[] {
  return page.keys.map((key) => ({
    keyId: key.keyId,
    description: key.description ?? undefined,
    keyState: key.keyState,
  }));
}

/** configSummaryMessage converts the engine's configuration summary to its message. */
export function configSummaryMessage(
  summary: ConfigSummary,
): MessageInitShape<typeof ConfigSummarySchema> {
  const backend = summary.backendSummary;
  return {
    backendType: summary.backendType,
    defaultKeyId: summary.defaultKeyId ?? undefined,
    timeoutSeconds: summary.timeoutSeconds,
    retryAttempts: summary.retryAttempts,
    enableCache: summary.enableCache,
    cacheSummary: summary.cacheSummary,
    backendSummary: {
      summary:
        backend.backendType === "local"
          ? { case: "local", value: backend }
          : { case: "vault", value: { ...backend, namespace: backend.namespace ?? undefined } },
    },
  };
}
