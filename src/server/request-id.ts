import { randomFillSync } from "node:crypto";

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;

/** ID_BYTES is the randomness in a fresh id: 12 bytes, 16 base64url characters. */
const ID_BYTES = 12;
/**
 * The pool of random bytes fresh ids are cut from: one system call per 340 ids
 * rather than one per request. Each id uses its own bytes, never shared or reused.
 */
const pool = Buffer.alloc(ID_BYTES * 340);
let used = pool.length;

/**
 * requestIdOf returns the caller's `x-request-id` when it is 1–128 characters of
 * `[A-Za-z0-9._:-]` (safe to log and echo as is), else a fresh random id, so every
 * request can be found in the log by the id its response carries.
 */
export function requestIdOf(header: string | string[] | undefined): string {
  if (typeof header === "string" && REQUEST_ID_RE.test(header)) return header;
  if (used === pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  used += ID_BYTES;
  return pool.toString("base64url", used - ID_BYTES, used);
}
