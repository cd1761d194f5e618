import { evaluatePolicies, mayEverAllow, statementsFor } from "./evaluate-policies.js";
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

/** Compiled once per identity object; an identities reload makes new ones, and the old are collected. */
const compiled = new WeakMap<Identity, Permissions>();

/**
 * permissionsOf returns the permissions of an identity: the root identity may do
 * everything; any other may do what its policies allow, and nothing without one.
 * The policies are sorted by action once per identity (the statements that cover
 * each action, and whether it could ever be allowed), so a request evaluates only
 * the statements of its own action.
 */
export function permissionsOf(identity: Identity): Permissions {
  if (identity.root) return EVERYTHING;
  let permissions = compiled.get(identity);
  if (permissions === undefined) {
    permissions = compile(identity);
    compiled.set(identity, permissions);
  }
  return permissions;
}

function compile(identity: Identity): Permissions {
  const policies = identity.policies ?? [];
  const byAction = new Map(
    KMS_ACTIONS.map((action) => [
      action as string,
      { doc: [statementsFor(policies, action)], ever: mayEverAllow(policies, action) },
    ]),
  );
  return Object.freeze({
    allows(action: string, keyIds: readonly string[]) {
      const entry = byAction.get(action);
      if (entry === undefined || !entry.ever) return false;
      return evaluatePolicies(entry.doc, action as KmsAction, keyIds).allowed;
    },
    mayEver: (action: string) => byAction.get(action)?.ever === true,
  });
}
