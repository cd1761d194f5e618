import type { PolicyDocument } from "./policy-document.js";

/**
 * Identity is the verified caller, as a plain value handed from the HTTP edge to handlers.
 * Identities from an identities file carry their policies; the root identity needs none.
 */
export interface Identity {
  /** A display name for logs and audit; never a secret. */
  readonly name: string;
  /** The access key the request was signed with. */
  readonly accessKey: string;
  /** The root identity (RUSTFS_ACCESS_KEY) may do everything. */
  readonly root: boolean;
  /** What the identity may do (evaluatePolicies); absent for root. */
  readonly policies?: readonly PolicyDocument[];
}

/** createRootIdentity returns the identity of the root credentials, which may do everything. */
export function createRootIdentity(accessKey: string): Identity {
  return Object.freeze({ name: "root", accessKey, root: true });
}
