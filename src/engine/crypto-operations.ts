import type { StoredKey } from "./backend.js";
import { parseAnyEnvelope } from "./backend-envelope.js";
import { encodeEncryptionContext } from "./encryption-context.js";
import { isKmsError, KmsError } from "./errors.js";
import { parseKeyId } from "./key-id.js";
import { parseDataKeyLength, parseEncryptPlaintext } from "./key-input.js";
import type { KeyContext } from "./key-operations.js";
import { assertUsable } from "./key-state-rules.js";
import { keyNotFound } from "./key-store.js";
import { randomSecret } from "./random-pool.js";
import type {
  DataKey,
  DecryptedKey,
  DecryptInput,
  EncryptInput,
  GenerateDataKeyInput,
  ReEncrypted,
  ReEncryptInput,
  WrappedData,
} from "./types.js";

/**
 * generateDataKey makes a fresh data key and wraps it under the current
 * version of an Enabled key, binding the encryption context. `keyId` omitted
 * (or empty) means the configured `default_key_id`.
 */
export function generateDataKey(ctx: KeyContext, input: GenerateDataKeyInput): Promise<DataKey> {
  return issueDataKey(ctx, input, "GenerateDataKey");
}

/** generateDataKeyWithoutPlaintext is generateDataKey that keeps (and wipes) the plaintext. */
export async function generateDataKeyWithoutPlaintext(
  ctx: KeyContext,
  input: GenerateDataKeyInput,
): Promise<WrappedData> {
  const { keyId, plaintextKey, ciphertextBlob } = await issueDataKey(
    ctx,
    input,
    "GenerateDataKeyWithoutPlaintext",
  );
  plaintextKey.fill(0);
  return { keyId, ciphertextBlob };
}

/** issueDataKey is both data-key calls; `operation` names the call in a state refusal. */
async function issueDataKey(
  ctx: KeyContext,
  input: GenerateDataKeyInput,
  operation: string,
): Promise<DataKey> {
  const keyId = resolveKeyId(input.keyId, ctx.config.defaultKeyId);
  const length = parseDataKeyLength(input.keySpec, input.numberOfBytes);
  const context = encodeEncryptionContext(input.encryptionContext);
  const key = await loadUsable(ctx, keyId, operation);
  const plaintextKey = randomSecret(length);
  try {
    return {
      keyId,
      plaintextKey,
      ciphertextBlob: await ctx.custody.wrap(key, plaintextKey, context),
    };
  } catch (error) {
    plaintextKey.fill(0);
    throw error;
  }
}

/** encrypt wraps up to 4 KiB of caller data under the current version of an Enabled key. */
export async function encrypt(ctx: KeyContext, input: EncryptInput): Promise<WrappedData> {
  const keyId = resolveKeyId(input.keyId, ctx.config.defaultKeyId);
  const plaintext = parseEncryptPlaintext(input.plaintext);
  const context = encodeEncryptionContext(input.encryptionContext);
  const key = await loadUsable(ctx, keyId, "Encrypt");
  return { keyId, ciphertextBlob: await ctx.custody.wrap(key, plaintext, context) };
}

/** decrypt unwraps a ciphertext blob made under an Enabled key, with the same encryption context. */
export async function decrypt(ctx: KeyContext, input: DecryptInput): Promise<DecryptedKey> {
  const { key, plaintext } = await unwrap(ctx, input, "Decrypt");
  return { keyId: key.keyId, plaintextKey: plaintext };
}

/**
 * reEncrypt unwraps a blob and wraps its plaintext again under the current
 * version of the destination key (the blob's own key when none is named) with
 * the destination context (none when absent). The plaintext never leaves the
 * engine and is wiped. Both keys must be Enabled.
 */
export async function reEncrypt(ctx: KeyContext, input: ReEncryptInput): Promise<ReEncrypted> {
  const named = input.destinationKeyId;
  const destinationId =
    named == null || named === "" ? null : parseKeyId(named, "destination_key_id");
  const destinationContext = renameContextErrors(() =>
    encodeEncryptionContext(input.destinationEncryptionContext),
  );
  const { key: source, plaintext } = await unwrap(ctx, input, "ReEncrypt");
  try {
    const destination =
      destinationId === null || destinationId === source.keyId
        ? source
        : await loadUsable(ctx, destinationId, "ReEncrypt");
    return {
      keyId: destination.keyId,
      sourceKeyId: source.keyId,
      ciphertextBlob: await ctx.custody.wrap(destination, plaintext, destinationContext),
    };
  } finally {
    plaintext.fill(0);
  }
}

/** unwrap opens a blob under the key and version it names; the caller wipes `plaintext`. */
async function unwrap(
  ctx: KeyContext,
  input: DecryptInput,
  operation: string,
): Promise<{ key: StoredKey; plaintext: Buffer }> {
  if (!(input.ciphertextBlob instanceof Uint8Array)) {
    throw new KmsError("INVALID_ARGUMENT", "ciphertext_blob is required");
  }
  const envelope = parseAnyEnvelope(input.ciphertextBlob);
  const context = encodeEncryptionContext(input.encryptionContext);
  const key = await ctx.store.load(envelope.keyId);
  // The caller named no key: the blob did, so this stays an invalid
  // ciphertext (400), but saying "another encryption context" here sent
  // callers hunting the wrong fault. The id is readable by anyone holding the
  // blob, so naming it reveals nothing the opaque message protects; whether
  // the tag or the context is wrong stays opaque below.
  if (key === null) {
    throw new KmsError(
      "INVALID_CIPHERTEXT",
      `the key this ciphertext was made under ("${envelope.keyId}") does not exist: it was deleted, or never existed here`,
    );
  }
  assertUsable(key, operation);
  return { key, plaintext: await ctx.custody.unwrap(key, envelope, context) };
}

async function loadUsable(ctx: KeyContext, keyId: string, operation: string): Promise<StoredKey> {
  const key = await ctx.store.load(keyId);
  if (key === null) throw keyNotFound(keyId);
  assertUsable(key, operation);
  return key;
}

function resolveKeyId(keyId: string | undefined, defaultKeyId: string | null): string {
  if (keyId != null && keyId !== "") return parseKeyId(keyId);
  if (defaultKeyId === null) {
    throw new KmsError("INVALID_ARGUMENT", "key_id is required (no default_key_id configured)");
  }
  return defaultKeyId;
}

/** renameContextErrors makes the context's bound errors name `destination_encryption_context`. */
function renameContextErrors<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (!isKmsError(error, "INVALID_ARGUMENT")) throw error;
    throw new KmsError(
      "INVALID_ARGUMENT",
      error.message.replace(/^encryption_context/, "destination_encryption_context"),
    );
  }
}
