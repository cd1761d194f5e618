import { createHash, randomBytes } from "node:crypto";
import type { BackendCustody, StoredKey, StoredKeyVersion } from "./backend.js";
import {
  type AnyEnvelope,
  backendAad,
  isBackendEnvelope,
  sealBackendEnvelope,
} from "./backend-envelope.js";
import type { KeyCache } from "./cache.js";
import { invalidCiphertext, openEnvelope, sealEnvelope } from "./envelope.js";
import { isKmsError, KmsError } from "./errors.js";
import type { KeyStore } from "./key-store.js";

/**
 * KeyCustody is the custody half of the engine's backend contract as the key
 * operations see it: making a key's first and next versions of material,
 * wrapping a plaintext under a key's newest version and unwrapping a blob. The
 * engine's own envelope does it for the local backend (createEnvelopeCustody);
 * a backend that holds the material does it itself (createBackendCustody over
 * `KeyBackend.custody`). Metadata — state, tags, dates, the list of versions —
 * stays with the KeyStore either way. Every method rejects only with KmsError:
 * INVALID_CIPHERTEXT (one opaque message) for a blob that does not open with
 * this key and context, BACKEND_ERROR / BACKEND_UNAVAILABLE for the backend.
 */
export interface KeyCustody {
  /**
   * firstVersion returns version 1 of a new key and, under engine custody,
   * the plaintext material for the cache (the caller hands it to the store).
   * Under backend custody the backend's `create` makes the material.
   */
  firstVersion(keyId: string, now: Date): { version: StoredKeyVersion; material: Buffer | null };
  /** rotate makes the next version of a key's material and returns it, to be appended to the key's versions. */
  rotate(key: StoredKey, now: Date): Promise<StoredKeyVersion>;
  /** wrap seals `plaintext` under the key's newest version with `context` (an encoded encryption context) bound. */
  wrap(key: StoredKey, plaintext: Uint8Array, context: Uint8Array): Promise<Uint8Array>;
  /** unwrap opens a parsed blob made under `key` with `context`; the caller owns (and zeroises) the result. */
  unwrap(key: StoredKey, envelope: AnyEnvelope, context: Uint8Array): Promise<Buffer>;
}

/**
 * createEnvelopeCustody is engine custody: each version's material is sealed
 * under the store's key-encryption key, and data keys are wrapped in the
 * engine's v1 envelope (envelope.ts). Blobs in the backend format are refused.
 */
export function createEnvelopeCustody(store: KeyStore): KeyCustody {
  return {
    firstVersion(keyId, now) {
      const material = randomBytes(32);
      return {
        version: { version: 1, sealedMaterial: store.seal(keyId, 1, material), createdAt: now },
        material,
      };
    },
    async rotate(key, now) {
      const version = (key.versions.at(-1)?.version ?? 0) + 1;
      const material = randomBytes(32);
      try {
        return {
          version,
          sealedMaterial: store.seal(key.keyId, version, material),
          createdAt: now,
        };
      } finally {
        material.fill(0);
      }
    },
    async wrap(key, plaintext, context) {
      const current = key.versions.at(-1);
      const material = current === undefined ? null : store.material(key, current.version);
      if (current === undefined || material === null) {
        throw new KmsError("BACKEND_ERROR", `key "${key.keyId}" has no key material`);
      }
      try {
        return sealEnvelope(material, key.keyId, current.version, plaintext, context);
      } finally {
        material.fill(0);
      }
    },
    async unwrap(key, envelope, context) {
      if (isBackendEnvelope(envelope)) throw invalidCiphertext();
      const material = store.material(key, envelope.keyVersion);
      if (material === null) throw invalidCiphertext();
      try {
        return openEnvelope(material, envelope, context);
      } finally {
        material.fill(0);
      }
    },
  };
}

/**
 * createBackendCustody is backend custody: material is made, rotated and used
 * inside the backend (Vault Transit), and the engine only envelopes the
 * backend's ciphertext (backend-envelope.ts). Unwrap results are cached per
 * (key, blob, context) in `cache` for its TTL, so a hot object costs no
 * backend round trip per read; the caller checks the key's state first on
 * every call, and the store drops a key's results when its state changes.
 */
export function createBackendCustody(backend: BackendCustody, cache: KeyCache): KeyCustody {
  return {
    firstVersion: (_keyId, now) => ({
      version: { version: 1, sealedMaterial: new Uint8Array(0), createdAt: now },
      material: null,
    }),
    async rotate(key, now) {
      const version = await backend.rotate(key.keyId);
      return { version, sealedMaterial: new Uint8Array(0), createdAt: now };
    },
    async wrap(key, plaintext, context) {
      const { version, ciphertext } = await backend.wrap(
        key.keyId,
        plaintext,
        backendAad(key.keyId, context),
      );
      return sealBackendEnvelope(key.keyId, version, ciphertext);
    },
    async unwrap(key, envelope, context) {
      if (!isBackendEnvelope(envelope)) throw invalidCiphertext();
      const digest = createHash("sha256")
        .update(envelope.ciphertext)
        .update(Buffer.of(0))
        .update(context)
        .digest("base64");
      const cached = cache.getUnwrapped(key.keyId, digest);
      if (cached !== undefined) return cached;
      let plaintext: Buffer;
      try {
        plaintext = await backend.unwrap(
          key.keyId,
          envelope.ciphertext,
          backendAad(key.keyId, context),
        );
      } catch (error) {
        // One opaque message whichever custodian refused the blob.
        if (isKmsError(error, "INVALID_CIPHERTEXT")) throw invalidCiphertext();
        throw error;
      }
      cache.putUnwrapped(key.keyId, digest, Buffer.from(plaintext));
      return plaintext;
    },
  };
}
