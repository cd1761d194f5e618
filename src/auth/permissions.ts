import { evaluatePolicies, mayEverAllow } from "./evaluate-policies.js";
import type { Identity } from "./identity.js";
import { KMS_ACTIONS, type KmsAction } from "./kms-actions.js";

/**
 * Permissions answers what one identity may do, by action name; an action that is
 * not one of KMS_ACTIONS is never allowed (a misspelt table denies, it never grants).
 */
export interface Permissions {
  /** allows tells whether the identity may perform `action` on every key of `keyIds` (none for a service-level action). */
  allows(action: string, keyIds: readonly string[]): boolean;
  /** mayEver tells whether some call of `action` could be allowed (see mayEverAllow). */
  mayEver(action: string): boolean;
}

const KNOWN: ReadonlySet<string> = new Set(KMS_ACTIONS);
const EVERYTHING: Permissions = Object.freeze({
  allows: (action: string) => KNOWN.has(action),
  mayEver: (action: string) => KNOWN.has(action),
});

/** isKmsAction tells whether `name` is one of KMS_ACTIONS (exact spelling). */
export function isKmsAction(name: string): name is KmsAction {
  return KNOWN.has(name);
}

/**
 * permissionsOf returns the permissions of an identity: the root identity may do
 * everything; any other may do what its policies allow, and nothing without one.
 */
export function permissionsOf(identity: Identity): Permissions {
  if (identity.root) return EVERYTHING;
  const policies = identity.policies ?? [];
  return {
    allows: (action, keyIds) =>
      isKmsAction(action) && evaluatePolicies(policies, action, keyIds).allowed,
    mayEver: (action) => isKmsAction(action) && mayEverAllow(policies, action),
  };
}
