import { KmsError } from "./errors.js";

const KEY_ID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;
/** Only dots: `.` and `..` name directories, and no such id is worth the risk of becoming one. */
const ONLY_DOTS = /^\.+$/;

/**
 * isValidKeyId tells whether a value is a key id: 1–128 characters of
 * `A-Z a-z 0-9 . _ -`, not made of dots alone (so `.` and `..` can never reach
 * a file system as a key's name).
 */
export function isValidKeyId(value: unknown): value is string {
  return typeof value === "string" && KEY_ID_PATTERN.test(value) && !ONLY_DOTS.test(value);
}

/** parseKeyId returns `value` when it is a valid key id, else rejects with INVALID_ARGUMENT naming `field`. */
export function parseKeyId(value: unknown, field = "key_id"): string {
  if (!isValidKeyId(value)) {
    throw new KmsError(
      "INVALID_ARGUMENT",
      `${field} must be 1-128 characters of A-Z a-z 0-9 . _ - and not only dots`,
    );
  }
  return value;
}
