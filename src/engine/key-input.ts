import { randomUUID } from "node:crypto";
import { KmsError } from "./errors.js";
import { parseKeyId } from "./key-id.js";
import type { CreateKeyInput } from "./types.js";

/** MAX_DESCRIPTION_LENGTH bounds a key's description, in UTF-16 code units. */
export const MAX_DESCRIPTION_LENGTH = 8192;
/** MAX_TAGS bounds the number of tags on a key. */
export const MAX_TAGS = 50;
/** MAX_TAG_KEY_LENGTH bounds a tag key (AWS KMS uses the same limit). */
export const MAX_TAG_KEY_LENGTH = 128;
/** MAX_TAG_VALUE_LENGTH bounds a tag value (AWS KMS uses the same limit). */
export const MAX_TAG_VALUE_LENGTH = 256;
/** DEFAULT_LIST_LIMIT is the page size when ListKeys gives no `limit`. */
export const DEFAULT_LIST_LIMIT = 100;
/** MAX_LIST_LIMIT is the largest page ListKeys serves; larger limits are served as this. */
export const MAX_LIST_LIMIT = 1000;
/** MAX_ENCRYPT_PLAINTEXT bounds Encrypt's plaintext, in bytes (AWS KMS's bound). */
export const MAX_ENCRYPT_PLAINTEXT = 4096;
/** MAX_MARKER_LENGTH bounds a ListKeys marker; real markers are key ids (≤ 128). */
export const MAX_MARKER_LENGTH = 1024;

function invalid(message: string): KmsError {
  return new KmsError("INVALID_ARGUMENT", message);
}

/** ParsedCreateKeyInput is a validated CreateKey request with its key id chosen. */
export interface ParsedCreateKeyInput {
  keyId: string;
  description: string | null;
  tags: Record<string, string>;
}

/**
 * parseCreateKeyInput validates a CreateKey request. The key id is `tags.name`
 * when given (as `mc admin kms key create NAME` expects), else a random UUID v4.
 */
export function parseCreateKeyInput(input: CreateKeyInput): ParsedCreateKeyInput {
  if (typeof input !== "object" || input === null) throw invalid("request must be an object");
  const usage = input.keyUsage;
  if (usage != null && usage !== "ENCRYPT_DECRYPT" && usage !== "EncryptDecrypt") {
    throw invalid("key_usage must be ENCRYPT_DECRYPT");
  }
  const description = input.description == null ? null : parseDescription(input.description);
  const tags = parseTags(input.tags);
  const keyId = Object.hasOwn(tags, "name") ? parseKeyId(tags.name, "tags.name") : randomUUID();
  return { keyId, description, tags };
}

/** parseDescription checks a key description: a string of at most MAX_DESCRIPTION_LENGTH characters. */
export function parseDescription(value: unknown): string {
  if (typeof value !== "string") throw invalid("description must be a string");
  if (value.length > MAX_DESCRIPTION_LENGTH) {
    throw invalid(`description must be at most ${MAX_DESCRIPTION_LENGTH} characters`);
  }
  return value;
}

/**
 * parseTags checks a tag map (at most MAX_TAGS entries, keys 1–128 and values
 * at most 256 characters) and returns a null-prototype copy; absent → empty.
 */
export function parseTags(value: unknown): Record<string, string> {
  if (value == null) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw invalid("tags must be a string map");
  const entries = Object.entries(value);
  if (entries.length > MAX_TAGS) throw invalid(`tags must have at most ${MAX_TAGS} entries`);
  // A null prototype, so a tag named `__proto__` is stored as a tag rather
  // than swallowed by the object's prototype setter.
  const tags: Record<string, string> = Object.create(null);
  for (const [key, tagValue] of entries) {
    if (key.length === 0 || key.length > MAX_TAG_KEY_LENGTH) {
      throw invalid(`tag keys must be 1-${MAX_TAG_KEY_LENGTH} characters`);
    }
    if (typeof tagValue !== "string" || tagValue.length > MAX_TAG_VALUE_LENGTH) {
      throw invalid(`tag values must be strings of at most ${MAX_TAG_VALUE_LENGTH} characters`);
    }
    tags[key] = tagValue;
  }
  return tags;
}

/**
 * parseListLimit resolves ListKeys' `limit`: absent → 100, above 1000 → 1000,
 * 0 → 0 (an empty page); anything but a non-negative integer → INVALID_ARGUMENT.
 */
export function parseListLimit(limit: unknown): number {
  if (limit == null) return DEFAULT_LIST_LIMIT;
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 0) {
    throw invalid("limit must be a non-negative integer");
  }
  return Math.min(limit, MAX_LIST_LIMIT);
}

/** parseListMarker resolves ListKeys' `marker`: absent or empty → null (from the start). */
export function parseListMarker(marker: unknown): string | null {
  if (marker == null || marker === "") return null;
  if (typeof marker !== "string" || marker.length > MAX_MARKER_LENGTH) {
    throw invalid(`marker must be a string of at most ${MAX_MARKER_LENGTH} characters`);
  }
  return marker;
}

/** parseDeletionWindow resolves `pending_window_in_days`: absent → 30, else an integer 7–30. */
export function parseDeletionWindow(days: unknown): number {
  if (days == null) return 30;
  if (typeof days !== "number" || !Number.isInteger(days) || days < 7 || days > 30) {
    throw invalid("pending_window_in_days must be an integer between 7 and 30");
  }
  return days;
}

/** parseDataKeySpec resolves `key_spec` to a data key length in bytes: AES_256 (default) → 32, AES_128 → 16. */
export function parseDataKeySpec(spec: unknown): 16 | 32 {
  if (spec == null || spec === "AES_256" || spec === "Aes256") return 32;
  if (spec === "AES_128" || spec === "Aes128") return 16;
  throw invalid("key_spec must be AES_256 or AES_128");
}

/** MAX_DATA_KEY_BYTES bounds GenerateDataKey's `number_of_bytes` (AWS's NumberOfBytes: 1–1024). */
export const MAX_DATA_KEY_BYTES = 1024;

/**
 * parseDataKeyLength resolves a data key's length in bytes from `key_spec`
 * (parseDataKeySpec) or `number_of_bytes` (an integer 1–1024); giving both is
 * INVALID_ARGUMENT, as AWS refuses it.
 */
export function parseDataKeyLength(spec: unknown, numberOfBytes: unknown): number {
  if (numberOfBytes == null) return parseDataKeySpec(spec);
  if (spec != null) throw invalid("give key_spec or number_of_bytes, not both");
  if (
    typeof numberOfBytes !== "number" ||
    !Number.isInteger(numberOfBytes) ||
    numberOfBytes < 1 ||
    numberOfBytes > MAX_DATA_KEY_BYTES
  ) {
    throw invalid(`number_of_bytes must be an integer between 1 and ${MAX_DATA_KEY_BYTES}`);
  }
  return numberOfBytes;
}

/** parseTagKeys checks UntagKey's `tag_keys`: 1 to MAX_TAGS keys of 1–128 characters. */
export function parseTagKeys(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw invalid("tag_keys must name at least one tag");
  }
  if (value.length > MAX_TAGS) throw invalid(`tag_keys must have at most ${MAX_TAGS} entries`);
  for (const key of value) {
    if (typeof key !== "string" || key.length === 0 || key.length > MAX_TAG_KEY_LENGTH) {
      throw invalid(`tag keys must be 1-${MAX_TAG_KEY_LENGTH} characters`);
    }
  }
  return value as string[];
}

/** parseEncryptPlaintext checks Encrypt's `plaintext`: 1 to MAX_ENCRYPT_PLAINTEXT bytes. */
export function parseEncryptPlaintext(value: unknown): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length === 0) {
    throw invalid(`plaintext is required: 1 to ${MAX_ENCRYPT_PLAINTEXT} bytes (base64 in JSON)`);
  }
  if (value.length > MAX_ENCRYPT_PLAINTEXT) {
    throw invalid(`plaintext must be at most ${MAX_ENCRYPT_PLAINTEXT} bytes`);
  }
  return value;
}
