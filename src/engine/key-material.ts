import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { KmsError } from "./errors.js";

/**
 * Sealed key material (format 1): 0x01, 12-byte IV, AES-256-GCM ciphertext,
 * 16-byte tag, under the key-encryption key. The AAD names the key id and
 * version, so sealed material copied onto another key or version fails to open.
 */
const SEALED_FORMAT = 1;
const IV_LENGTH = 12;
const TAG_LENGTH = 16;
const AAD_LABEL = Buffer.from("kms-gateway/key-material/v1\0", "latin1");

function materialAad(keyId: string, version: number): Buffer {
  const id = Buffer.from(keyId, "latin1");
  const aad = Buffer.alloc(AAD_LABEL.length + 1 + id.length + 4);
  AAD_LABEL.copy(aad, 0);
  aad[AAD_LABEL.length] = id.length;
  id.copy(aad, AAD_LABEL.length + 1);
  aad.writeUInt32BE(version, AAD_LABEL.length + 1 + id.length);
  return aad;
}

/** sealKeyMaterial encrypts a key version's material under the key-encryption key `kek`. */
export function sealKeyMaterial(
  kek: Uint8Array,
  keyId: string,
  version: number,
  material: Uint8Array,
): Uint8Array {
  const iv = randomBytes(IV_LENGTH);
  const cipher = createCipheriv("aes-256-gcm", kek, iv, { authTagLength: TAG_LENGTH });
  cipher.setAAD(materialAad(keyId, version));
  const ciphertext = Buffer.concat([cipher.update(material), cipher.final()]);
  return Buffer.concat([Buffer.of(SEALED_FORMAT), iv, ciphertext, cipher.getAuthTag()]);
}

/**
 * unsealKeyMaterial decrypts what sealKeyMaterial made for the same key id and
 * version. Corrupt, moved or foreign material rejects with BACKEND_ERROR: the
 * stored key is damaged, which is not the caller's fault. The caller owns (and
 * zeroises) the result.
 */
export function unsealKeyMaterial(
  kek: Uint8Array,
  keyId: string,
  version: number,
  sealed: Uint8Array,
): Buffer {
  const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  if (bytes.length !== 1 + IV_LENGTH + 32 + TAG_LENGTH || bytes[0] !== SEALED_FORMAT) {
    throw corrupt(keyId);
  }
  const decipher = createDecipheriv("aes-256-gcm", kek, bytes.subarray(1, 1 + IV_LENGTH), {
    authTagLength: TAG_LENGTH,
  });
  decipher.setAAD(materialAad(keyId, version));
  decipher.setAuthTag(bytes.subarray(bytes.length - TAG_LENGTH));
  const material = decipher.update(bytes.subarray(1 + IV_LENGTH, bytes.length - TAG_LENGTH));
  try {
    decipher.final();
  } catch {
    material.fill(0);
    throw corrupt(keyId);
  }
  return material;
}

function corrupt(keyId: string): KmsError {
  return new KmsError("BACKEND_ERROR", `the stored material of key "${keyId}" is corrupt`);
}
