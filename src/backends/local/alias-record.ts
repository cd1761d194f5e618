import { isAliasName } from "../../engine/backend.js";
import type { AliasEntry } from "../../engine/types.js";

/** ALIAS_RECORD_FORMAT_VERSION is the `formatVersion` of the alias files this code writes. */
export const ALIAS_RECORD_FORMAT_VERSION = 1;

/** ALIAS_FILE_SUFFIX ends every alias file's name. */
export const ALIAS_FILE_SUFFIX = ".json";

const KEY_ID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;
const PREFIX = "alias/";

/**
 * aliasFileName is the file of an alias: the part after `alias/` with every
 * `/` spelled `.` (a character no alias name holds, so the mapping is
 * one-to-one), then `.json`: at most 255 bytes, NAME_MAX on common file
 * systems. Alias names never contain `.`, so no file is `.` or `..`.
 */
export function aliasFileName(aliasName: string): string {
  return `${aliasName.slice(PREFIX.length).replaceAll("/", ".")}${ALIAS_FILE_SUFFIX}`;
}

/** aliasNameOfFile reverses aliasFileName; null for a name it never makes. */
export function aliasNameOfFile(fileName: string): string | null {
  if (!fileName.endsWith(ALIAS_FILE_SUFFIX)) return null;
  const name = `${PREFIX}${fileName.slice(0, -ALIAS_FILE_SUFFIX.length).replaceAll(".", "/")}`;
  return isAliasName(name) ? name : null;
}

/** encodeAliasRecord turns an alias into the JSON text of its file. Throws a TypeError on an invalid field. */
export function encodeAliasRecord(alias: AliasEntry): string {
  if (!isAliasName(alias.aliasName) || !KEY_ID_PATTERN.test(alias.targetKeyId)) {
    throw new TypeError("alias record is invalid");
  }
  const record = {
    formatVersion: ALIAS_RECORD_FORMAT_VERSION,
    aliasName: alias.aliasName,
    targetKeyId: alias.targetKeyId,
    creationDate: isoDate(alias.creationDate),
    lastUpdatedDate: isoDate(alias.lastUpdatedDate),
  };
  return `${JSON.stringify(record, null, 2)}\n`;
}

/**
 * decodeAliasRecord parses an alias file back, checking every field and that
 * it names `expectedName` (its file's name). Throws an Error naming the bad
 * field, never its value.
 */
export function decodeAliasRecord(text: string, expectedName: string): AliasEntry {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new Error("alias record is not valid JSON");
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new Error("alias record is not a JSON object");
  }
  const r = raw as Record<string, unknown>;
  if (r.formatVersion !== ALIAS_RECORD_FORMAT_VERSION) {
    throw new Error("alias record has an unsupported formatVersion");
  }
  if (r.aliasName !== expectedName) throw new Error("alias record name does not match its file");
  if (typeof r.targetKeyId !== "string" || !KEY_ID_PATTERN.test(r.targetKeyId)) {
    throw new Error("alias record targetKeyId is invalid");
  }
  return {
    aliasName: expectedName,
    targetKeyId: r.targetKeyId,
    creationDate: dateField(r.creationDate, "creationDate"),
    lastUpdatedDate: dateField(r.lastUpdatedDate, "lastUpdatedDate"),
  };
}

function isoDate(date: Date): string {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
    throw new TypeError("alias has an invalid date");
  }
  return date.toISOString();
}

function dateField(value: unknown, field: string): Date {
  const date = typeof value === "string" ? new Date(value) : null;
  if (date === null || Number.isNaN(date.getTime())) {
    throw new Error(`alias record ${field} is invalid`);
  }
  return date;
}
