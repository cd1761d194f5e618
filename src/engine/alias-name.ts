import { isAliasName } from "./backend.js";
import { KmsError } from "./errors.js";

/** RESERVED_ALIAS_PREFIX starts the names AWS keeps for its managed keys; no caller may create or change one. */
export const RESERVED_ALIAS_PREFIX = "alias/aws/";

/**
 * parseAliasName returns `value` when it is an alias name (`alias/` and 1–250
 * of A-Z a-z 0-9 / _ -), else rejects with INVALID_ARGUMENT naming `field`.
 * With `writable`, a name under `alias/aws/` is refused too: it may be looked
 * up (and is never found) but not created, updated or deleted.
 */
export function parseAliasName(value: unknown, writable: boolean, field = "alias_name"): string {
  if (!isAliasName(value)) {
    throw new KmsError(
      "INVALID_ARGUMENT",
      `${field} must be alias/ followed by 1-250 characters of A-Z a-z 0-9 / _ -`,
    );
  }
  if (writable && value.startsWith(RESERVED_ALIAS_PREFIX)) {
    throw new KmsError(
      "INVALID_ARGUMENT",
      `${field} must not begin with ${RESERVED_ALIAS_PREFIX}: that prefix is reserved for AWS managed keys`,
    );
  }
  return value;
}
