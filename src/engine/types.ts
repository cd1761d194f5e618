/**
 * The engine's public value types. They are plain data in camelCase; the
 * service layer converts them to and from protobuf messages. Absent optional
 * values are `null`, never `undefined`, on the way out.
 */

/** ServiceStatus is the lifecycle state of the KMS (contract §5). */
export type ServiceStatus = "NotConfigured" | "Configured" | "Running" | "Error";

/** KeyState is the state of a master key (contract §3, §6). */
export type KeyState = "Enabled" | "Disabled" | "PendingDeletion";

/** BackendType names a backend, in the seed's spelling. */
export type BackendType = "local" | "vault";

/** EncryptionContext is a string map bound to a ciphertext; key order is irrelevant. */
export type EncryptionContext = Readonly<Record<string, string>>;

/** AuthMethodInput is how the gateway authenticates to Vault: a token or an AppRole. */
export interface AuthMethodInput {
  token?: string;
  approle?: { roleId: string; secretId: string; mount?: string };
}

/**
 * KmsConfigPatch is a configure / reconfigure request. Every field is optional:
 * configure needs `backendType`; reconfigure merges the present fields over the
 * stored configuration. `backendType` accepts the seed's and RustFS's spellings
 * (`local`, `Local`, `vault`, `Vault`, `VaultTransit`, `vault-transit`).
 */
export interface KmsConfigPatch {
  backendType?: string;
  keyDir?: string;
  masterKey?: string;
  masterKeyFile?: string;
  masterKeyEnv?: string;
  address?: string;
  authMethod?: AuthMethodInput;
  namespace?: string;
  mountPath?: string;
  kvMount?: string;
  keyPathPrefix?: string;
  skipTlsVerify?: boolean;
  caCertPath?: string;
  defaultKeyId?: string;
  enableCache?: boolean;
  cacheTtlSeconds?: number;
  maxCachedKeys?: number;
  timeoutSeconds?: number;
  retryAttempts?: number;
  /** RustFS's file mode for key files: checked (owner-only), never stored. */
  filePermissions?: number;
  /** Lets an API configuration of the local backend go without a master key. */
  allowInsecureDevDefaults?: boolean;
}

/** LocalBackendConfig is the resolved configuration of the local backend. */
export interface LocalBackendConfig {
  backendType: "local";
  keyDir: string;
  /** The operator's master key, or null when the engine generated one. Secret. */
  masterKey: string | null;
  /**
   * An absolute path to read the master key from at every start, instead of
   * `masterKey`; null (or absent in a state file written before it existed) when unused.
   */
  masterKeyFile?: string | null;
  /** An environment variable to read the master key from at every start; null when unused. */
  masterKeyEnv?: string | null;
}

/** VaultBackendConfig is the resolved configuration of the Vault backend. */
export interface VaultBackendConfig {
  backendType: "vault";
  address: string;
  /** Secret: never leaves the engine except to the Vault client and the 0600 state file. */
  authMethod: { token: string } | { approle: { roleId: string; secretId: string; mount: string } };
  namespace: string | null;
  mountPath: string;
  kvMount: string;
  keyPathPrefix: string;
  skipTlsVerify: boolean;
  caCertPath: string | null;
}

/** KmsConfig is a complete, validated configuration with every default applied. */
export interface KmsConfig {
  backend: LocalBackendConfig | VaultBackendConfig;
  defaultKeyId: string | null;
  enableCache: boolean;
  cacheTtlSeconds: number;
  maxCachedKeys: number;
  timeoutSeconds: number;
  retryAttempts: number;
}

/** LifecycleResult answers configure, reconfigure, start and stop. */
export interface LifecycleResult {
  success: boolean;
  message: string;
  status: ServiceStatus;
}

/** RekeyMasterInput names the new master key: exactly one of the three sources. */
export type RekeyMasterInput = Pick<KmsConfigPatch, "masterKey" | "masterKeyFile" | "masterKeyEnv">;

/** RekeyResult answers rekeyMaster: a LifecycleResult and how many keys were resealed. */
export interface RekeyResult extends LifecycleResult {
  keysResealed: number;
}

/** BackendSummary is the secret-free description of the configured backend. */
export type BackendSummary =
  | { backendType: "local"; keyDir: string; hasMasterKey: boolean }
  | {
      backendType: "vault";
      address: string;
      authMethodType: "token" | "approle";
      namespace: string | null;
      mountPath: string;
      kvMount: string;
      keyPathPrefix: string;
    };

/** ConfigSummary is the secret-free view of the stored configuration. */
export interface ConfigSummary {
  backendType: BackendType;
  defaultKeyId: string | null;
  timeoutSeconds: number;
  retryAttempts: number;
  enableCache: boolean;
  cacheSummary: { maxKeys: number; ttlSeconds: number; enableMetrics: boolean };
  backendSummary: BackendSummary;
}

/** CacheStatsView counts the running service's cache hits, misses and evictions, and its entries now. */
export interface CacheStatsView {
  hits: number;
  misses: number;
  evictions: number;
  entries: number;
}

/** StatusView answers GET /kms/status. */
export interface StatusView {
  status: ServiceStatus;
  backendType: BackendType | null;
  healthy: boolean;
  configSummary: ConfigSummary | null;
  /** The running service's cache counts, or null while it is not running. */
  cacheStats: CacheStatsView | null;
}

/** ConfigView answers GET /kms/config. */
export interface ConfigView {
  backend: BackendType | null;
  cacheEnabled: boolean;
  cacheMaxKeys: number;
  cacheTtlSeconds: number;
  defaultKeyId: string | null;
}

/** KeyMetadata describes a master key. `enabled` is derived by callers as `keyState === "Enabled"`. */
export interface KeyMetadata {
  keyId: string;
  description: string | null;
  keyState: KeyState;
  keyUsage: "ENCRYPT_DECRYPT";
  keySpec: "AES_256";
  creationDate: Date;
  deletionDate: Date | null;
  /** Whether the key is rotated automatically (EnableKeyRotation). */
  rotationEnabled: boolean;
  /** The automatic rotation period in days; absent while rotation is off. */
  rotationPeriodInDays?: number | null;
  /** When the next automatic rotation is due; absent while rotation is off. */
  nextRotationDate?: Date | null;
  tags: Record<string, string>;
  /** The current version of the key's material: 1 at creation, +1 per rotation. */
  keyVersion: number;
  /** When the current version was made by a rotation; null while never rotated. */
  rotationDate: Date | null;
}

/** CreateKeyInput describes a key to create. `keyUsage` accepts `ENCRYPT_DECRYPT` / `EncryptDecrypt`. */
export interface CreateKeyInput {
  keyUsage?: string;
  description?: string;
  tags?: Record<string, string>;
}

/** ListKeysInput selects a page: `limit` [100, max 1000], `marker` an exclusive lower bound. */
export interface ListKeysInput {
  limit?: number;
  marker?: string;
}

/** KeyListPage is one page of a key listing. */
export interface KeyListPage {
  keys: {
    keyId: string;
    description: string | null;
    keyState: KeyState;
    tags: Record<string, string>;
    creationDate: Date;
  }[];
  truncated: boolean;
  nextMarker: string | null;
  /** Ids on this page whose stored record could not be read; left out of `keys`. */
  unreadableKeyIds: string[];
}

/** GenerateDataKeyInput asks for a data key. `keySpec` accepts `AES_256`, `AES_128`, `Aes256`, `Aes128`. */
export interface GenerateDataKeyInput {
  keyId?: string;
  keySpec?: string;
  /** A data key of this many bytes (1–1024) instead of `keySpec`; giving both is INVALID_ARGUMENT. */
  numberOfBytes?: number;
  encryptionContext?: EncryptionContext;
}

/** DataKey is a fresh data key, in plaintext and wrapped; the engine keeps no reference to `plaintextKey`. */
export interface DataKey {
  keyId: string;
  plaintextKey: Uint8Array;
  ciphertextBlob: Uint8Array;
}

/** DecryptInput is a ciphertext blob and the encryption context it was made with. */
export interface DecryptInput {
  ciphertextBlob: Uint8Array;
  encryptionContext?: EncryptionContext;
}

/** DecryptedKey is an unwrapped data key; the engine keeps no reference to `plaintextKey`. */
export interface DecryptedKey {
  keyId: string;
  plaintextKey: Uint8Array;
}

/** GenerateDataKeyWithoutPlaintextInput asks for a wrapped data key only; as GenerateDataKeyInput. */
export type GenerateDataKeyWithoutPlaintextInput = GenerateDataKeyInput;

/** WrappedData is a ciphertext blob and the key that made it. */
export interface WrappedData {
  keyId: string;
  ciphertextBlob: Uint8Array;
}

/** EncryptInput is up to 4 KiB of caller data to wrap; `keyId` omitted means `default_key_id`. */
export interface EncryptInput {
  keyId?: string;
  plaintext: Uint8Array;
  encryptionContext?: EncryptionContext;
}

/**
 * ReEncryptInput is a ciphertext blob with its encryption context, and where
 * to wrap it again: `destinationKeyId` omitted means the blob's own key (its
 * current version), `destinationEncryptionContext` omitted means none.
 */
export interface ReEncryptInput {
  ciphertextBlob: Uint8Array;
  encryptionContext?: EncryptionContext;
  destinationKeyId?: string;
  destinationEncryptionContext?: EncryptionContext;
}

/** ReEncrypted is a blob wrapped again, naming the key that had wrapped it before. */
export interface ReEncrypted extends WrappedData {
  sourceKeyId: string;
}

/**
 * AliasEntry is one alias: a second name (`alias/<name>`) for a master key,
 * persisted by the backend and shared by the admin API and the AWS KMS API.
 */
export interface AliasEntry {
  /** The alias's full name, `alias/` included. */
  aliasName: string;
  /** The id of the key it names. */
  targetKeyId: string;
  creationDate: Date;
  lastUpdatedDate: Date;
}

/**
 * ListAliasesInput selects a page of aliases in ascending name order: `keyId`
 * keeps only the aliases of that key, `limit` 1–1000 (default 100), `marker`
 * an exclusive lower bound (the previous page's `nextMarker`).
 */
export interface ListAliasesInput {
  keyId?: string;
  limit?: number;
  marker?: string;
}

/** AliasListPage is one page of an alias listing. */
export interface AliasListPage {
  aliases: AliasEntry[];
  truncated: boolean;
  nextMarker: string | null;
}

/** RotationType says what made a rotation: the schedule or a caller's request. */
export type RotationType = "AUTOMATIC" | "ON_DEMAND";

/** RotationStatus is a key's automatic-rotation setting. */
export interface RotationStatus {
  keyId: string;
  rotationEnabled: boolean;
  /** The schedule's period (90–2560 days), null while rotation is disabled. */
  rotationPeriodInDays: number | null;
  /** When the background task will next rotate the key, null while disabled. */
  nextRotationDate: Date | null;
}

/** KeyRotationEntry is one completed rotation of a key's material (a version after the first). */
export interface KeyRotationEntry {
  keyId: string;
  rotationDate: Date;
  rotationType: RotationType;
}

/** ListKeyRotationsInput selects a page of a key's rotations, oldest first: `limit` 1–1000 (default 100). */
export interface ListKeyRotationsInput {
  limit?: number;
  marker?: string;
}

/** KeyRotationPage is one page of a key's rotations. */
export interface KeyRotationPage {
  rotations: KeyRotationEntry[];
  truncated: boolean;
  nextMarker: string | null;
}

/**
 * KmsEngine is the KMS domain: the lifecycle state machine (contract §5) and
 * the key operations (contract §6). Every method rejects only with KmsError.
 */
export interface KmsEngine {
  /**
   * configure stores a first configuration; with `requireMasterKey` (API
   * callers) a local one needs a master key source (see requireMasterKeySource).
   */
  configure(
    patch: KmsConfigPatch,
    options?: { requireMasterKey?: boolean },
  ): Promise<LifecycleResult>;
  reconfigure(patch: KmsConfigPatch): Promise<LifecycleResult>;
  /** start starts the configured backend; `force` restarts it when already running. */
  start(options?: { force?: boolean }): Promise<LifecycleResult>;
  stop(): Promise<LifecycleResult>;
  status(): Promise<StatusView>;
  config(): ConfigView;
  clearCache(): void;
  /** rekeyMaster reseals every key's material under a new master key (local backend, while running). */
  rekeyMaster(input: RekeyMasterInput): Promise<RekeyResult>;

  createKey(input: CreateKeyInput): Promise<KeyMetadata>;
  listKeys(input: ListKeysInput): Promise<KeyListPage>;
  describeKey(keyId: string): Promise<KeyMetadata>;
  scheduleKeyDeletion(keyId: string, pendingWindowInDays?: number): Promise<KeyMetadata>;
  cancelKeyDeletion(keyId: string): Promise<KeyMetadata>;
  /**
   * destroyKeyNow destroys a key's material at once (an immediate deletion the
   * caller has already authorised) and returns its last metadata.
   */
  destroyKeyNow(keyId: string): Promise<KeyMetadata>;
  generateDataKey(input: GenerateDataKeyInput): Promise<DataKey>;
  decrypt(input: DecryptInput): Promise<DecryptedKey>;

  enableKey(keyId: string): Promise<KeyMetadata>;
  disableKey(keyId: string): Promise<KeyMetadata>;
  rotateKey(keyId: string): Promise<KeyMetadata>;
  /** updateKeyDescription replaces the description; `description` must be given (≤ 8 KiB). */
  updateKeyDescription(keyId: string, description: string | undefined): Promise<KeyMetadata>;
  /** tagKey merges `tags` over the key's tags; the `name` tag cannot change. */
  tagKey(keyId: string, tags: Record<string, string>): Promise<KeyMetadata>;
  /** untagKey removes the tags named; the `name` tag cannot be removed. */
  untagKey(keyId: string, tagKeys: readonly string[]): Promise<KeyMetadata>;
  generateDataKeyWithoutPlaintext(
    input: GenerateDataKeyWithoutPlaintextInput,
  ): Promise<WrappedData>;
  encrypt(input: EncryptInput): Promise<WrappedData>;
  reEncrypt(input: ReEncryptInput): Promise<ReEncrypted>;

  /**
   * createAlias gives `targetKeyId` the name `aliasName` (`alias/` + 1–250 of
   * [A-Za-z0-9/_-]; `alias/aws/` is reserved). KEY_EXISTS when the alias
   * exists, KEY_NOT_FOUND for an unknown key, INVALID_KEY_STATE when the key
   * is pending deletion.
   */
  createAlias(aliasName: string, targetKeyId: string): Promise<AliasEntry>;
  /** updateAlias points an existing alias at another key (KEY_NOT_FOUND when the alias is unknown). */
  updateAlias(aliasName: string, targetKeyId: string): Promise<AliasEntry>;
  /** deleteAlias removes an alias (KEY_NOT_FOUND when unknown); the key is untouched. */
  deleteAlias(aliasName: string): Promise<void>;
  listAliases(input: ListAliasesInput): Promise<AliasListPage>;
  /** resolveAlias returns the id of the key an alias names; KEY_NOT_FOUND naming the alias when none. */
  resolveAlias(aliasName: string): Promise<string>;

  /** enableKeyRotation turns on automatic rotation every `rotationPeriodInDays` (90–2560, default 365). */
  enableKeyRotation(keyId: string, rotationPeriodInDays?: number): Promise<RotationStatus>;
  disableKeyRotation(keyId: string): Promise<RotationStatus>;
  getKeyRotationStatus(keyId: string): Promise<RotationStatus>;
  listKeyRotations(keyId: string, input: ListKeyRotationsInput): Promise<KeyRotationPage>;

  /** close stops timers and closes the backend; the engine is unusable afterwards. */
  close(): Promise<void>;
}
