import { KMS_ACTIONS, SERVER_INFO_ACTION } from "./kms-actions.js";

/** PolicyStatement is one validated statement; names keep the case they were written in. */
export interface PolicyStatement {
  readonly effect: "Allow" | "Deny";
  /** Action patterns (`kms:Describe*`, `kms:*`, `*`, `admin:ServerInfo`). */
  readonly actions: readonly string[];
  /** Key-id patterns from `arn:aws:kms:…:key/<pattern>`; null when the statement names no key (unscoped). */
  readonly keyPatterns: readonly string[] | null;
}

/** PolicyDocument is a validated IAM-style identity policy. */
export interface PolicyDocument {
  readonly statements: readonly PolicyStatement[];
}

/** PolicyError says what is wrong with a policy and where (`identities[2].policies[0].Statement[1].Action`). */
export class PolicyError extends Error {
  override readonly name = "PolicyError";
}

const VERSIONS = new Set(["2012-10-17", "2008-10-17"]);
const MAX_STATEMENTS = 100;
const MAX_ENTRIES = 100;
const MAX_STRING = 2048;
const STATEMENT_FIELDS = new Set(["Sid", "Effect", "Action", "Resource"]);
const KNOWN_ACTIONS = new Set([...KMS_ACTIONS, SERVER_INFO_ACTION].map((a) => a.toLowerCase()));
/** `arn:aws:kms:<region>:<account>:key/<pattern>`, region and account empty or `*`. */
const KEY_ARN = /^arn:aws:kms:(\*?):(\*?):key\/(.+)$/;

/**
 * parsePolicyDocument validates an IAM-style policy (`Version`, `Statement` with
 * `Effect`, `Action`, optional `Resource`) and throws a PolicyError naming the
 * offending place. What it cannot honour it refuses instead of ignoring, since
 * ignoring would grant more than the author meant: `Condition`, `NotAction`,
 * `NotResource`, `Principal`, and action names that no RPC has.
 */
export function parsePolicyDocument(value: unknown, where: string): PolicyDocument {
  const doc = object(value, where);
  for (const field of Object.keys(doc)) {
    if (field !== "Version" && field !== "Statement" && field !== "Id") {
      throw new PolicyError(
        `${where}.${field}: not supported (a policy has Version and Statement)`,
      );
    }
  }
  if (typeof doc.Version !== "string" || !VERSIONS.has(doc.Version)) {
    throw new PolicyError(`${where}.Version: must be "2012-10-17"`);
  }
  const raw = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  if (raw.length === 0 || raw.length > MAX_STATEMENTS) {
    throw new PolicyError(`${where}.Statement: 1 to ${MAX_STATEMENTS} statements`);
  }
  return { statements: raw.map((s, i) => parseStatement(s, `${where}.Statement[${i}]`)) };
}

function parseStatement(value: unknown, where: string): PolicyStatement {
  const st = object(value, where);
  for (const field of Object.keys(st)) {
    if (!STATEMENT_FIELDS.has(field)) {
      throw new PolicyError(`${where}.${field}: not supported (use Effect, Action and Resource)`);
    }
  }
  if (st.Effect !== "Allow" && st.Effect !== "Deny") {
    throw new PolicyError(`${where}.Effect: must be "Allow" or "Deny"`);
  }
  const actions = strings(st.Action, `${where}.Action`);
  for (const action of actions) {
    if (action === "*" || action.includes("*") || action.includes("?")) {
      if (!/^(\*|(kms|admin):[A-Za-z*?]+)$/i.test(action)) {
        throw new PolicyError(`${where}.Action: "${action}" is not an action pattern`);
      }
    } else if (!KNOWN_ACTIONS.has(action.toLowerCase())) {
      throw new PolicyError(`${where}.Action: unknown action "${action}"`);
    }
  }
  let keyPatterns: string[] | null = null;
  if (st.Resource !== undefined) {
    const resources = strings(st.Resource, `${where}.Resource`);
    if (!resources.includes("*")) {
      keyPatterns = resources.map((r) => {
        const match = KEY_ARN.exec(r);
        if (!match) {
          throw new PolicyError(
            `${where}.Resource: "${r}" is not "*" or arn:aws:kms:::key/<key-id pattern>`,
          );
        }
        return match[3] as string;
      });
    }
  }
  return { effect: st.Effect, actions, keyPatterns };
}

function object(value: unknown, where: string): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new PolicyError(`${where}: must be an object`);
  }
  return value as Record<string, unknown>;
}

function strings(value: unknown, where: string): string[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0 || list.length > MAX_ENTRIES) {
    throw new PolicyError(`${where}: 1 to ${MAX_ENTRIES} strings`);
  }
  for (const item of list) {
    if (typeof item !== "string" || item === "" || item.length > MAX_STRING) {
      throw new PolicyError(
        `${where}: each entry must be a non-empty string of at most ${MAX_STRING} characters`,
      );
    }
  }
  return list as string[];
}
