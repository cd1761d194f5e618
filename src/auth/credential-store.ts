import type { Identity } from "./identity.js";

/** CredentialStore resolves an access key to its secret and identity. */
export interface CredentialStore {
  /**
   * lookup returns the secret and identity for accessKey, or undefined when the key is unknown.
   * The verifier still computes a signature with a dummy secret for unknown keys, so a store
   * need not do anything special to keep the two cases alike in timing.
   */
  lookup(accessKey: string): { secretKey: string; identity: Identity } | undefined;
}

/** StaticCredential is one entry of a static credential store; the access key is the identity's. */
export interface StaticCredential {
  readonly identity: Identity;
  readonly secretKey: string;
}

/**
 * createStaticCredentialStore returns a store over a fixed list of credentials.
 * It throws on an empty access key or secret, or on a duplicate access key.
 */
export function createStaticCredentialStore(entries: Iterable<StaticCredential>): CredentialStore {
  const byKey = new Map<string, { secretKey: string; identity: Identity }>();
  for (const { identity, secretKey } of entries) {
    if (identity.accessKey === "" || secretKey === "") {
      throw new Error("credential store: access key and secret key must not be empty");
    }
    if (byKey.has(identity.accessKey)) {
      // The key is not secret, but keep the message generic like the rest of auth/.
      throw new Error("credential store: duplicate access key");
    }
    byKey.set(identity.accessKey, Object.freeze({ secretKey, identity }));
  }
  return { lookup: (accessKey) => byKey.get(accessKey) };
}

/** The RustFS defaults, used when RUSTFS_ACCESS_KEY / RUSTFS_SECRET_KEY are unset. */
const DEFAULT_ROOT_KEY = "rustfsadmin";

/**
 * rootCredentialsFromEnv reads the root credentials from RUSTFS_ACCESS_KEY / RUSTFS_SECRET_KEY.
 * Each falls back to `rustfsadmin` when unset or empty; isDefault is true when either did, so
 * the caller can warn at start-up.
 */
export function rootCredentialsFromEnv(env: NodeJS.ProcessEnv): {
  accessKey: string;
  secretKey: string;
  isDefault: boolean;
} {
  const accessKey = env.RUSTFS_ACCESS_KEY || undefined;
  const secretKey = env.RUSTFS_SECRET_KEY || undefined;
  return {
    accessKey: accessKey ?? DEFAULT_ROOT_KEY,
    secretKey: secretKey ?? DEFAULT_ROOT_KEY,
    isDefault: accessKey === undefined || secretKey === undefined,
  };
}

/** SwappableCredentialStore is a CredentialStore whose content can be replaced at once (identities reload). */
export interface SwappableCredentialStore extends CredentialStore {
  /** replace makes `next` answer every lookup from now on; a request already verified keeps its identity. */
  replace(next: CredentialStore): void;
}

/** createSwappableCredentialStore returns a store that answers from `initial` until replaced. */
export function createSwappableCredentialStore(initial: CredentialStore): SwappableCredentialStore {
  let current = initial;
  return {
    lookup: (accessKey) => current.lookup(accessKey),
    replace(next) {
      current = next;
    },
  };
}
