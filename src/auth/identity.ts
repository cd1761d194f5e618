/**
 * Identity is the verified caller, as a plain value handed from the HTTP edge to handlers.
 *
 * Policies are not part of it yet: an identities/policy file will add an optional field here
 * and a CredentialStore that reads it, without changing how requests are verified.
 */
export interface Identity {
  /** A display name for logs and audit; never a secret. */
  readonly name: string;
  /** The access key the request was signed with. */
  readonly accessKey: string;
  /** The root identity (RUSTFS_ACCESS_KEY) may do everything. */
  readonly root: boolean;
}

/** createRootIdentity returns the identity of the root credentials, which may do everything. */
export function createRootIdentity(accessKey: string): Identity {
  return Object.freeze({ name: "root", accessKey, root: true });
}
