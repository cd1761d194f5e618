import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { badRequest, notFound, unsupportedPath, VaultError } from "./vault-error.js";
import {
  base64Param,
  boolParam,
  intParam,
  stringParam,
  type VaultReply,
  type VaultRequest,
} from "./vault-request.js";

// A Transit secrets engine, as Vault's API docs describe it
// (website/content/api-docs/secret/transit.mdx). Only symmetric AES-GCM keys:
// what a KMS gateway needs. Key material never leaves it: export answers as
// for a key that is not exportable.

type KeyType = "aes256-gcm96" | "aes128-gcm96";

interface TransitKey {
  name: string;
  type: KeyType;
  derived: boolean;
  deletionAllowed: boolean;
  minDecryptionVersion: number;
  minEncryptionVersion: number;
  /** Version → material and creation time (Unix seconds). */
  versions: Map<number, { material: Buffer; created: number }>;
  latest: number;
}

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** versionOf reads N from a `vault:vN:` ciphertext this engine made. */
function versionOf(ciphertext: string): number {
  return Number(ciphertext.slice("vault:v".length, ciphertext.indexOf(":", "vault:v".length)));
}

/** TransitEngine is one mount of the Transit engine; `handle` serves a request below the mount. */
export interface TransitEngine {
  handle(req: VaultRequest): VaultReply;
  /** keyNames lists the keys, for tests that inspect what the server holds. */
  keyNames(): string[];
  /** latestVersion is a key's newest version, or undefined. */
  latestVersion(name: string): number | undefined;
}

/** createTransitEngine returns an empty Transit mount. */
export function createTransitEngine(): TransitEngine {
  const keys = new Map<string, TransitKey>();

  function createKey(name: string, type: KeyType, derived: boolean): TransitKey {
    const key: TransitKey = {
      name,
      type,
      derived,
      deletionAllowed: false,
      minDecryptionVersion: 1,
      minEncryptionVersion: 0,
      versions: new Map(),
      latest: 0,
    };
    addVersion(key);
    keys.set(name, key);
    return key;
  }

  function addVersion(key: TransitKey): void {
    key.latest += 1;
    key.versions.set(key.latest, {
      material: randomBytes(key.type === "aes128-gcm96" ? 16 : 32),
      created: Math.floor(Date.now() / 1000),
    });
  }

  function existing(name: string): TransitKey {
    const key = keys.get(name);
    if (!key) throw badRequest("encryption key not found");
    return key;
  }

  /** The material a request works with: the version's own, or one derived from `context`. */
  function workingKey(key: TransitKey, version: number, context: Buffer | undefined): Buffer {
    const entry = key.versions.get(version);
    if (!entry) throw badRequest("invalid key version");
    if (!key.derived) return entry.material;
    if (!context) {
      throw badRequest(
        "missing 'context' for key derivation; the key was created using a derived key, " +
          "which means additional, per-request information must be included in order to " +
          "perform operations with the key",
      );
    }
    // Vault's key derivation (KDF "hkdf_sha256"): HKDF-SHA256 over the version's
    // material, no salt, the context as info.
    return Buffer.from(
      hkdfSync("sha256", entry.material, Buffer.alloc(0), context, entry.material.length),
    );
  }

  function seal(key: TransitKey, plaintext: Buffer, body: Record<string, unknown>): string {
    const requested = intParam(body, "key_version") ?? 0;
    const version = requested === 0 ? key.latest : requested;
    if (version < key.minEncryptionVersion || version > key.latest) {
      throw badRequest(
        "requested version for encryption is less than the minimum encryption key version",
      );
    }
    const material = workingKey(key, version, base64Param(body, "context", "context"));
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv(
      key.type === "aes128-gcm96" ? "aes-128-gcm" : "aes-256-gcm",
      material,
      nonce,
    );
    const aad = base64Param(body, "associated_data", "associated_data");
    if (aad) cipher.setAAD(aad);
    const sealed = Buffer.concat([
      nonce,
      cipher.update(plaintext),
      cipher.final(),
      cipher.getAuthTag(),
    ]);
    return `vault:v${version}:${sealed.toString("base64")}`;
  }

  function open(
    key: TransitKey,
    body: Record<string, unknown>,
  ): { plaintext: Buffer; version: number } {
    const ciphertext = stringParam(body, "ciphertext");
    if (!ciphertext) throw badRequest("missing ciphertext to decrypt");
    const match = /^vault:v(\d+):([A-Za-z0-9+/=]*)$/.exec(ciphertext);
    if (!match) throw badRequest("invalid ciphertext: no prefix");
    const version = Number(match[1]);
    if (version < key.minDecryptionVersion) {
      throw badRequest("ciphertext or signature version is disallowed by policy (too old)");
    }
    const material = workingKey(key, version, base64Param(body, "context", "context"));
    const sealed = Buffer.from(match[2] as string, "base64");
    if (sealed.length < NONCE_BYTES + TAG_BYTES) throw badRequest("invalid ciphertext: too short");
    try {
      const decipher = createDecipheriv(
        key.type === "aes128-gcm96" ? "aes-128-gcm" : "aes-256-gcm",
        material,
        sealed.subarray(0, NONCE_BYTES),
      );
      const aad = base64Param(body, "associated_data", "associated_data");
      if (aad) decipher.setAAD(aad);
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      const plaintext = Buffer.concat([
        decipher.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES)),
        decipher.final(),
      ]);
      return { plaintext, version };
    } catch {
      throw badRequest("cipher: message authentication failed");
    }
  }

  function readKey(key: TransitKey): Record<string, unknown> {
    return {
      name: key.name,
      type: key.type,
      derived: key.derived,
      kdf: key.derived ? "hkdf_sha256" : undefined,
      deletion_allowed: key.deletionAllowed,
      exportable: false,
      allow_plaintext_backup: false,
      keys: Object.fromEntries([...key.versions].map(([v, e]) => [String(v), e.created])),
      latest_version: key.latest,
      min_available_version: 0,
      min_decryption_version: key.minDecryptionVersion,
      min_encryption_version: key.minEncryptionVersion,
      supports_encryption: true,
      supports_decryption: true,
      supports_derivation: true,
      supports_signing: false,
      imported: false,
    };
  }

  function handle(req: VaultRequest): VaultReply {
    const parts = req.path.split("/");
    const [head, name, sub] = parts;
    const { method, body } = req;
    // "List Keys": LIST /transit/keys (or GET ?list=true).
    if (head === "keys" && (name === undefined || name === "") && req.list) {
      const names = [...keys.keys()].sort();
      if (names.length === 0) throw notFound();
      return { data: { keys: names } };
    }
    if (head === "keys" && name && parts.length === 2) {
      // "Create Key", "Read Key", "Delete Key".
      if (method === "POST" || method === "PUT") {
        if (keys.has(name)) return null;
        const type = (stringParam(body, "type") ?? "aes256-gcm96") as KeyType;
        if (type !== "aes256-gcm96" && type !== "aes128-gcm96") {
          throw badRequest(`unknown key type "${type}"`);
        }
        createKey(name, type, boolParam(body, "derived") ?? false);
        return null;
      }
      if (method === "GET") {
        const key = keys.get(name);
        if (!key) throw notFound();
        return { data: readKey(key) };
      }
      if (method === "DELETE") {
        const key = keys.get(name);
        if (!key) throw badRequest("could not delete key; not found");
        if (!key.deletionAllowed) throw badRequest("deletion is not allowed for this key");
        for (const entry of key.versions.values()) entry.material.fill(0);
        keys.delete(name);
        return null;
      }
    }
    if (head === "keys" && name && parts.length === 3 && (method === "POST" || method === "PUT")) {
      const key = keys.get(name);
      if (!key) throw badRequest("encryption key not found");
      // "Update Key Configuration".
      if (sub === "config") {
        const deletionAllowed = boolParam(body, "deletion_allowed");
        if (deletionAllowed !== undefined) key.deletionAllowed = deletionAllowed;
        const minDecrypt = intParam(body, "min_decryption_version");
        if (minDecrypt !== undefined && minDecrypt > 0) key.minDecryptionVersion = minDecrypt;
        const minEncrypt = intParam(body, "min_encryption_version");
        if (minEncrypt !== undefined) key.minEncryptionVersion = minEncrypt;
        if (boolParam(body, "exportable") === true) {
          throw badRequest("exportable keys are not supported by this test server");
        }
        return null;
      }
      // "Rotate Key".
      if (sub === "rotate") {
        addVersion(key);
        return null;
      }
    }
    // "Export Key": keys here are never exportable.
    if (head === "export" && method === "GET") throw badRequest("key is not exportable");
    if ((method === "POST" || method === "PUT") && name) {
      // "Encrypt Data": upserts the key when it does not exist (root may create).
      if (head === "encrypt" && parts.length === 2) {
        const plaintext = base64Param(body, "plaintext", "plaintext");
        if (stringParam(body, "plaintext") === undefined)
          throw badRequest("missing plaintext to encrypt");
        const key =
          keys.get(name) ??
          createKey(name, "aes256-gcm96", base64Param(body, "context", "context") !== undefined);
        const ciphertext = seal(key, plaintext ?? Buffer.alloc(0), body);
        return {
          data: { ciphertext, key_version: versionOf(ciphertext) },
        };
      }
      // "Decrypt Data".
      if (head === "decrypt" && parts.length === 2) {
        const { plaintext } = open(existing(name), body);
        return { data: { plaintext: plaintext.toString("base64") } };
      }
      // "Rewrap Data".
      if (head === "rewrap" && parts.length === 2) {
        const key = existing(name);
        const { plaintext } = open(key, body);
        const ciphertext = seal(key, plaintext, body);
        plaintext.fill(0);
        return { data: { ciphertext, key_version: versionOf(ciphertext) } };
      }
    }
    // "Generate Data Key": /transit/datakey/:type/:name.
    if (head === "datakey" && parts.length === 3 && (method === "POST" || method === "PUT")) {
      const kind = name;
      const key = existing(sub as string);
      if (kind !== "plaintext" && kind !== "wrapped") throw badRequest(`invalid type "${kind}"`);
      const bits = intParam(body, "bits") ?? 256;
      if (bits !== 128 && bits !== 256 && bits !== 512) {
        throw badRequest(`invalid bit length`);
      }
      const dataKey = randomBytes(bits / 8);
      const ciphertext = seal(key, dataKey, body);
      const data: Record<string, unknown> = { ciphertext, key_version: versionOf(ciphertext) };
      if (kind === "plaintext") data.plaintext = dataKey.toString("base64");
      return { data };
    }
    throw unsupportedPath(req.path);
  }

  return {
    handle(req) {
      try {
        return handle(req);
      } catch (error) {
        if (error instanceof VaultError) throw error;
        throw new VaultError(500, ["internal error"]);
      }
    },
    keyNames: () => [...keys.keys()].sort(),
    latestVersion: (name) => keys.get(name)?.latest,
  };
}
