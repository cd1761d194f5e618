import type { AuthMethod, KmsConfig } from "../../gen/kms/admin/v1/types_pb.js";
import type { AuthMethodInput, KmsConfigPatch } from "../engine/types.js";

/**
 * configPatchFromMessage turns a KmsConfig message into the engine's patch,
 * keeping only the fields that were present on the wire (reconfigure merges
 * exactly those).
 */
export function configPatchFromMessage(config: KmsConfig | undefined): KmsConfigPatch {
  if (config === undefined) {
    return {};
  }
  const { $typeName: _, authMethod, ...scalars } = config;
  const patch: KmsConfigPatch = {};
  for (const [name, value] of Object.entries(scalars)) {
    if (value !== undefined) {
      (patch as Record<string, unknown>)[name] = value;
    }
  }
  if (authMethod !== undefined) {
    patch.authMethod = authMethodFromMessage(authMethod);
  }
  return patch;
}

/** authMethodFromMessage accepts both the documented and the RustFS spellings of an auth method. */
function authMethodFromMessage(auth: AuthMethod): AuthMethodInput {
  const input: AuthMethodInput = {};
  const token = auth.token ?? auth.tokenAuth?.token;
  if (token !== undefined) {
    input.token = token;
  }
  const approle = auth.approle ?? auth.appRoleAuth;
  if (approle !== undefined) {
    input.approle = { roleId: approle.roleId, secretId: approle.secretId };
    if (approle.mount !== undefined) {
      input.approle.mount = approle.mount;
    }
  }
  return input;
}
