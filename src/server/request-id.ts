import { randomBytes } from "node:crypto";

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * requestIdOf returns the caller's `x-request-id` when it is 1–128 characters of
 * `[A-Za-z0-9._:-]` (safe to log and echo as is), else a fresh random id, so every
 * request can be found in the log by the id its response carries.
 */
export function requestIdOf(header: string | string[] | undefined): string {
  if (typeof header === "string" && REQUEST_ID_RE.test(header)) return header;
  return randomBytes(12).toString("base64url");
}
