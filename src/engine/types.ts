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

/** StatusView answers GET /kms/status. */
export interface StatusView {
  status: ServiceStatus;
  backendType: BackendType | null;
  healthy: boolean;
  configSummary: ConfigSummary | null;
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
  rotationEnabled: boolean;
  tags: Record<string, string>;
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
  keys: { keyId: string; description: string | null; keyState: KeyState }[];
  truncated: boolean;
  nextMarker: string | null;
}

/** GenerateDataKeyInput asks for a data key. `keySpec` accepts `AES_256`, `AES_128`, `Aes256`, `Aes128`. */
export interface GenerateDataKeyInput {
  keyId?: string;
  keySpec?: string;
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

/**
 * KmsEngine is the KMS domain: the lifecycle state machine (contract §5) and
 * the key operations (contract §6). Every method rejects only with KmsError.
 */
export interface KmsEngine {
  configure(patch: KmsConfigPatch): Promise<LifecycleResult>;
  reconfigure(patch: KmsConfigPatch): Promise<LifecycleResult>;
  start(): Promise<LifecycleResult>;
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
  generateDataKey(input: GenerateDataKeyInput): Promise<DataKey>;
  decrypt(input: DecryptInput): Promise<DecryptedKey>;

  /** close stops timers and closes the backend; the engine is unusable afterwards. */
  close(): Promise<void>;
}
