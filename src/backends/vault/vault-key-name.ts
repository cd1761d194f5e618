/**
 * Vault Transit names a key `\w(([\w-.]+)?\w)?` (its route pattern), and an
 * HTTP path segment of `.` or `..` is resolved away before Vault sees it, while
 * a gateway key id is any 1–128 characters of `A-Z a-z 0-9 . _ -`. Most ids
 * (UUIDs, names) are valid Transit names and are used as they are, for Transit
 * keys and KV paths alike, so an operator finds key `photos` at
 * `transit/keys/photos`. The rest (`.`, `-a`, `a.`) are spelled as the hex of
 * their bytes padded past 128 characters: no id is that long, so the mapping
 * stays one-to-one and reversible.
 */
const TRANSIT_NAME = /^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$/;
const MAX_KEY_ID_LENGTH = 128;
const ESCAPED = /^([0-9a-f]+)_z*$/;

/** vaultKeyName is the Transit key name and KV path segment of a key id. */
export function vaultKeyName(keyId: string): string {
  if (TRANSIT_NAME.test(keyId)) return keyId;
  const hex = Buffer.from(keyId, "latin1").toString("hex");
  return `${hex}_`.padEnd(MAX_KEY_ID_LENGTH + 2, "z");
}

/** keyIdOfVaultName reverses vaultKeyName; null for a name it never makes (not a gateway key). */
export function keyIdOfVaultName(name: string): string | null {
  if (name.length <= MAX_KEY_ID_LENGTH) return TRANSIT_NAME.test(name) ? name : null;
  const match = ESCAPED.exec(name);
  if (match === null || (match[1] as string).length % 2 !== 0) return null;
  const keyId = Buffer.from(match[1] as string, "hex").toString("latin1");
  return vaultKeyName(keyId) === name ? keyId : null;
}
