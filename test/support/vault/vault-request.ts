import { badRequest } from "./vault-error.js";

/** VaultRequest is one API call as an engine sees it: its path below the mount, method, query and JSON body. */
export interface VaultRequest {
  method: string;
  /** The path below the engine's mount, without a leading slash (`keys/app`). */
  path: string;
  query: URLSearchParams;
  body: Record<string, unknown>;
  /** True for a read with `?list=true`, how clients without the LIST verb list (docs: "HTTP API"). */
  list: boolean;
}

/** VaultReply is what an engine answers: `data` and/or `auth` for 200, nothing for 204. */
export type VaultReply = { data?: unknown; auth?: unknown; status?: number } | null;

/** stringParam reads an optional string body field, refusing another type as Vault does. */
export function stringParam(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") {
    throw badRequest(`error converting input for field "${name}": expected a string`);
  }
  return value;
}

/** intParam reads an optional integer body field (Vault accepts JSON numbers and numeric strings). */
export function intParam(body: Record<string, unknown>, name: string): number | undefined {
  const value = body[name];
  if (value === undefined || value === null || value === "") return undefined;
  const n = typeof value === "string" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n)) {
    throw badRequest(`error converting input for field "${name}": expected an integer`);
  }
  return n;
}

/** boolParam reads an optional boolean body field. */
export function boolParam(body: Record<string, unknown>, name: string): boolean | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value === "boolean") return value;
  if (value === "true" || value === "false") return value === "true";
  throw badRequest(`error converting input for field "${name}": expected a boolean`);
}

/** base64Param decodes a base64 body field; `what` names it in Vault's error text. */
export function base64Param(
  body: Record<string, unknown>,
  name: string,
  what: string,
): Buffer | undefined {
  const value = stringParam(body, name);
  if (value === undefined || value === "") return undefined;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) {
    throw badRequest(`failed to base64-decode ${what}`);
  }
  return Buffer.from(value, "base64");
}
