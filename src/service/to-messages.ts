import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type {
  AliasEntrySchema,
  ConfigSummarySchema,
  KeyListEntrySchema,
  KeyMetadataSchema,
  KeyRotationSchema,
  KeyRotationStatusSchema,
} from "../../gen/kms/admin/v1/types_pb.js";
import type {
  AliasEntry,
  ConfigSummary,
  KeyListPage,
  KeyMetadata,
  KeyRotationEntry,
  KeyState,
  RotationStatus,
  StatusView,
} from "../engine/types.js";

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

/** aliasEntryMessage converts an alias to its message. */
export function aliasEntryMessage(alias: AliasEntry): MessageInitShape<typeof AliasEntrySchema> {
  return {
    aliasName: alias.aliasName,
    targetKeyId: alias.targetKeyId,
    creationDate: timestampFromDate(alias.creationDate),
    lastUpdatedDate: timestampFromDate(alias.lastUpdatedDate),
  };
}

/** rotationStatusMessage converts a key's rotation setting to its message. */
export function rotationStatusMessage(
  status: RotationStatus,
): MessageInitShape<typeof KeyRotationStatusSchema> {
  return {
    keyId: status.keyId,
    rotationEnabled: status.rotationEnabled,
    rotationPeriodInDays: status.rotationPeriodInDays ?? undefined,
    nextRotationDate: status.nextRotationDate
      ? timestampFromDate(status.nextRotationDate)
      : undefined,
  };
}

/** keyRotationMessage converts one completed rotation to its message. */
export function keyRotationMessage(
  rotation: KeyRotationEntry,
): MessageInitShape<typeof KeyRotationSchema> {
  return {
    keyId: rotation.keyId,
    rotationDate: timestampFromDate(rotation.rotationDate),
    rotationType: rotation.rotationType,
  };
}

/**
 * RUSTFS_KEY_STATUS spells a key state as RustFS's list entries do (`status`),
 * which its e2e suite and console read beside our `key_state`.
 */
const RUSTFS_KEY_STATUS: Readonly<Record<KeyState, string>> = {
  Enabled: "Active",
  Disabled: "Disabled",
  PendingDeletion: "PendingDeletion",
};

/**
 * keyListEntryMessages converts a page of keys to list entries: the documented
 * `key_id`, `description`, `key_state`, plus the fields RustFS clients read
 * (`status` in RustFS's spelling; `algorithm` and `usage` in ours).
 */
export function keyListEntryMessages(
  page: KeyListPage,
): MessageInitShape<typeof KeyListEntrySchema>[] {
  return page.keys.map((key) => ({
    keyId: key.keyId,
    description: key.description ?? undefined,
    keyState: key.keyState,
    status: RUSTFS_KEY_STATUS[key.keyState],
    tags: key.tags,
    algorithm: "AES_256",
    usage: "ENCRYPT_DECRYPT",
    createdAt: timestampFromDate(key.creationDate),
  }));
}

/**
 * backendStatusOf is the `backend_status` RustFS's readiness probe polls:
 * `healthy` while running with a healthy backend, `error` when the service is
 * in Error (a failed start or health check), `unhealthy` while not running.
 */
export function backendStatusOf(status: StatusView): "healthy" | "unhealthy" | "error" {
  if (status.status === "Running" && status.healthy) return "healthy";
  return status.status === "Error" ? "error" : "unhealthy";
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
