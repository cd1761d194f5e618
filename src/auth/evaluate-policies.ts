import { type KmsAction, SERVER_INFO_ACTION, SERVICE_LEVEL_ACTIONS } from "./kms-actions.js";
import type { PolicyDocument, PolicyStatement } from "./policy-document.js";
import { wildcardMatch } from "./wildcard-match.js";

/** AuthzDecision is the outcome of evaluating an identity's policies for one call. */
export type AuthzDecision =
  | { allowed: true }
  | { allowed: false; reason: "explicit-deny" | "not-allowed" };

/**
 * evaluatePolicies decides whether `policies` allow `action` on `keyIds` (every
 * key the call touches: re-encrypt's source and destination; none for a
 * service-level action). IAM's rules: an explicit Deny that applies wins over any
 * Allow; otherwise every key must be allowed by some statement; no statement
 * means denied. A statement with key patterns applies only to key-scoped actions
 * on keys it matches; a service-level action needs a statement without one.
 * `admin:ServerInfo` stands for every KMS action.
 */
export function evaluatePolicies(
  policies: readonly PolicyDocument[],
  action: KmsAction,
  keyIds: readonly string[],
): AuthzDecision {
  const serviceLevel = SERVICE_LEVEL_ACTIONS.has(action);
  const lowerAction = action.toLowerCase();
  const allowedKeys = new Set<string>();
  let allowedService = false;
  for (const policy of policies) {
    for (const st of policy.statements) {
      if (!st.actions.some((a) => actionMatches(a, lowerAction))) continue;
      if (st.effect === "Deny") {
        if (st.keyPatterns === null) return { allowed: false, reason: "explicit-deny" };
        if (!serviceLevel && keyIds.some((k) => keyMatches(st, k))) {
          return { allowed: false, reason: "explicit-deny" };
        }
        continue;
      }
      if (st.keyPatterns === null) {
        allowedService = true;
      } else if (!serviceLevel) {
        for (const k of keyIds) if (keyMatches(st, k)) allowedKeys.add(k);
      }
    }
  }
  if (allowedService) return { allowed: true };
  if (!serviceLevel && keyIds.length > 0 && keyIds.every((k) => allowedKeys.has(k))) {
    return { allowed: true };
  }
  return { allowed: false, reason: "not-allowed" };
}

const SERVER_INFO = SERVER_INFO_ACTION.toLowerCase();

/** actionMatches is case-insensitive, as IAM's action names are; a pattern covering admin:ServerInfo covers every action. */
function actionMatches(pattern: string, lowerAction: string): boolean {
  const p = pattern.toLowerCase();
  return wildcardMatch(p, SERVER_INFO) || wildcardMatch(p, lowerAction);
}

function keyMatches(st: PolicyStatement, keyId: string): boolean {
  return (st.keyPatterns ?? []).some((p) => wildcardMatch(p, keyId));
}

/**
 * mayEverAllow tells whether `policies` could allow `action` on some call: an Allow
 * statement covers the action (unscoped, or scoped to keys for a key-scoped
 * action) and no unscoped Deny covers it. It lets a server refuse a call before it
 * reads the request, so that a caller without any permission for the action gets
 * the same refusal whatever its request holds; evaluatePolicies still decides the
 * call once its keys are known.
 */
export function mayEverAllow(policies: readonly PolicyDocument[], action: KmsAction): boolean {
  const serviceLevel = SERVICE_LEVEL_ACTIONS.has(action);
  const lowerAction = action.toLowerCase();
  let allowed = false;
  for (const policy of policies) {
    for (const st of policy.statements) {
      if (!st.actions.some((a) => actionMatches(a, lowerAction))) continue;
      if (st.effect === "Deny") {
        if (st.keyPatterns === null) return false;
      } else if (st.keyPatterns === null || !serviceLevel) {
        allowed = true;
      }
    }
  }
  return allowed;
}

/**
 * statementsFor keeps, of `policies`, the statements whose actions cover `action`,
 * as one document: evaluating it gives the same decision for that action, and
 * skips every other statement (see permissionsOf, which does this once per identity).
 */
export function statementsFor(
  policies: readonly PolicyDocument[],
  action: KmsAction,
): PolicyDocument {
  const lowerAction = action.toLowerCase();
  return {
    statements: policies.flatMap((p) =>
      p.statements.filter((st) => st.actions.some((a) => actionMatches(a, lowerAction))),
    ),
  };
}
