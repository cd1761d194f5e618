import { KmsAdminService } from "../../gen/kms/admin/v1/service_pb.js";
import { cannedPolicy } from "../../src/auth/canned-policies.js";
import { createRootIdentity, type Identity } from "../../src/auth/identity.js";
import { isKmsAction, permissionsOf } from "../../src/auth/permissions.js";
import { parsePolicyDocument } from "../../src/auth/policy-document.js";
import { formatAuditLine } from "../../src/server/audit-entry.js";
import { createCallAuthorizer } from "../../src/service/call-authorizer.js";
import type { Caller } from "../../src/service/caller.js";
import { methodActionsOf } from "../../src/service/method-actions.js";
import type { MicroBench } from "./micro-bench.js";

/**
 * authorizeMicro times what authorization adds to one request, as the gateway
 * runs it: the Caller the edge builds from the identity (permissionsOf), the
 * screen before the body is read, and the per-key check around a no-op engine
 * call (no audit sink: formatting an audit line is timed on its own).
 */
export async function authorizeMicro(): Promise<MicroBench[]> {
  const authorizer = createCallAuthorizer({
    actions: methodActionsOf(KmsAdminService, isKmsAction),
  });
  const method = KmsAdminService.method.generateDataKey;
  const facts = { keyIds: ["app-000001"], encryptionContext: { bucket: "b" } };
  const noop = async () => 1;
  const callerOf = (identity: Identity): Caller => {
    const p = permissionsOf(identity);
    return {
      authenticated: true,
      name: identity.name,
      accessKey: identity.accessKey,
      requestId: "r",
      source: "127.0.0.1",
      allows: p.allows,
      mayEver: p.mayEver,
    };
  };
  const keyUser: Identity = {
    name: "u",
    accessKey: "u",
    root: false,
    policies: [cannedPolicy("KMSKeyUser:app-*")].filter((p) => p !== undefined),
  };
  // A larger policy: 20 statements, the matching one last.
  const statements = Array.from({ length: 19 }, (_, i) => ({
    Effect: "Allow",
    Action: ["kms:Describe*", "kms:Encrypt"],
    Resource: `arn:aws:kms:::key/team-${i}-*`,
  }));
  statements.push({
    Effect: "Allow",
    Action: ["kms:GenerateDataKey"],
    Resource: "arn:aws:kms:::key/app-*",
  });
  const big: Identity = {
    name: "b",
    accessKey: "b",
    root: false,
    policies: [parsePolicyDocument({ Version: "2012-10-17", Statement: statements }, "p")],
  };
  const root = createRootIdentity("admin");
  const authorize = (identity: Identity) => async () => {
    const caller = callerOf(identity);
    await authorizer.screen(caller, method);
    if ((await authorizer.run(caller, method, facts, noop)) !== 1) throw new Error("not run");
  };
  const denied = async () => {
    const caller = callerOf(keyUser);
    await authorizer.screen(caller, method);
    try {
      await authorizer.run(caller, method, { keyIds: ["other"] }, noop);
    } catch {
      return;
    }
    throw new Error("other was allowed");
  };
  const entry = {
    requestId: "b0c1d2e3f4a5b6c7d8e9f0a1",
    identity: "objectstore",
    source: "127.0.0.1",
    action: "kms:GenerateDataKey",
    method: "GenerateDataKey",
    keyIds: ["app-000001"],
    keyVersion: 1,
    outcome: "allowed" as const,
    errorCode: null,
    encryptionContext: { bucket: "finance", object: "reports/2026/q1.pdf", tenant: "t-42" },
  };
  const at = new Date();
  return [
    { name: "authorize: root (screen + per-key check)", fn: authorize(root) },
    { name: "authorize: KMSKeyUser:app-* allowed on app-*", fn: authorize(keyUser) },
    { name: "authorize: KMSKeyUser:app-* denied on other", fn: denied },
    { name: "authorize: 20-statement policy, match last", fn: authorize(big) },
    { name: "audit line format (3 context values hashed)", fn: () => formatAuditLine(entry, at) },
  ];
}
