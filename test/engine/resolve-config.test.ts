import { describe, expect, it } from "vitest";
import { isKmsError } from "../../src/engine/errors.js";
import { parseBackendType, resolveConfig } from "../../src/engine/resolve-config.js";
import type { KmsConfig, KmsConfigPatch } from "../../src/engine/types.js";

const DEFAULT_DIR = "/data/keys";

function invalidMessage(patch: KmsConfigPatch, base: KmsConfig | null = null): string {
  try {
    resolveConfig(patch, base, DEFAULT_DIR);
  } catch (error) {
    if (isKmsError(error, "INVALID_ARGUMENT")) return error.message;
    throw error;
  }
  throw new Error("expected INVALID_ARGUMENT");
}

describe("resolveConfig", () => {
  it("applies every default to a bare local configuration", () => {
    expect(resolveConfig({ backendType: "local" }, null, DEFAULT_DIR)).toEqual({
      backend: { backendType: "local", keyDir: DEFAULT_DIR, masterKey: null },
      defaultKeyId: null,
      enableCache: true,
      cacheTtlSeconds: 300,
      maxCachedKeys: 1024,
      timeoutSeconds: 30,
      retryAttempts: 3,
    });
  });

  it("applies the vault defaults", () => {
    expect(
      resolveConfig(
        { backendType: "vault", address: "https://v:8200", authMethod: { token: "t" } },
        null,
        DEFAULT_DIR,
      ).backend,
    ).toEqual({
      backendType: "vault",
      address: "https://v:8200",
      authMethod: { token: "t" },
      namespace: null,
      mountPath: "transit",
      kvMount: "secret",
      keyPathPrefix: "rustfs/kms/keys",
      skipTlsVerify: false,
      caCertPath: null,
    });
  });

  it("accepts the seed's vault example", () => {
    const config = resolveConfig(
      {
        backendType: "vault",
        address: "https://vault.example.com:8200",
        authMethod: { token: "s.XYZ" },
        mountPath: "transit",
        kvMount: "secret",
        keyPathPrefix: "rustfs/kms/keys",
        defaultKeyId: "rustfs-master",
        enableCache: true,
        cacheTtlSeconds: 600,
        timeoutSeconds: 30,
        retryAttempts: 3,
      },
      null,
      DEFAULT_DIR,
    );
    expect(config).toMatchObject({ defaultKeyId: "rustfs-master", cacheTtlSeconds: 600 });
  });

  it("accepts every backend_type spelling and nothing else", () => {
    for (const local of ["local", "Local"]) expect(parseBackendType(local)).toBe("local");
    for (const vault of ["vault", "Vault", "VaultTransit", "vault-transit"]) {
      expect(parseBackendType(vault)).toBe("vault");
    }
    for (const bad of ["LOCAL", "", "aws", "toString", "__proto__", 1, null]) {
      expect(() => parseBackendType(bad)).toThrow(/backend_type must be local or vault/);
    }
  });

  it("defaults the approle mount and accepts a namespace", () => {
    const config = resolveConfig(
      {
        backendType: "vault",
        address: "http://127.0.0.1:8200",
        authMethod: { approle: { roleId: "r", secretId: "s" } },
        namespace: "team/a",
      },
      null,
      DEFAULT_DIR,
    );
    expect(config.backend).toMatchObject({
      authMethod: { approle: { roleId: "r", secretId: "s", mount: "approle" } },
      namespace: "team/a",
    });
  });

  it.each<[KmsConfigPatch, RegExp]>([
    [{ backendType: "local", keyDir: "keys" }, /^key_dir must be an absolute path$/],
    [
      { backendType: "local", keyDir: "/proc/nope" },
      /^key_dir must not be under \/proc, \/sys, \/dev$/,
    ],
    [{ backendType: "local", keyDir: "/sys" }, /^key_dir must not be under /],
    [{ backendType: "local", keyDir: "/dev/shm/keys" }, /^key_dir must not be under /],
    [{ backendType: "local", keyDir: "/srv/../proc/1" }, /^key_dir must not be under /],
    [{ backendType: "local", keyDir: "//proc//x" }, /^key_dir must not be under /],
    [{ backendType: "local", masterKey: "" }, /^master_key /],
    [{ backendType: "local", defaultKeyId: "bad id" }, /^default_key_id /],
    [{ backendType: "local", defaultKeyId: "x".repeat(129) }, /^default_key_id /],
    [{ backendType: "local", cacheTtlSeconds: 0 }, /^cache_ttl_seconds /],
    [{ backendType: "local", cacheTtlSeconds: 1.5 }, /^cache_ttl_seconds /],
    [{ backendType: "local", maxCachedKeys: 1_000_001 }, /^max_cached_keys /],
    [{ backendType: "local", maxCachedKeys: 0 }, /^max_cached_keys /],
    [{ backendType: "local", timeoutSeconds: -1 }, /^timeout_seconds /],
    [{ backendType: "local", retryAttempts: 11 }, /^retry_attempts /],
    [{ backendType: "local", enableCache: "yes" as unknown as boolean }, /^enable_cache /],
    [{ backendType: "local", address: "https://v" }, /^address does not apply to the local/],
    [{ backendType: "vault", authMethod: { token: "t" } }, /^address is required/],
    [{ backendType: "vault", address: "https://v" }, /^auth_method is required/],
    [{ backendType: "vault", address: "ftp://v", authMethod: { token: "t" } }, /^address must/],
    [{ backendType: "vault", address: "not a url", authMethod: { token: "t" } }, /^address must/],
    [
      { backendType: "vault", address: "https://u:p@v", authMethod: { token: "t" } },
      /^address must/,
    ],
    [{ backendType: "vault", address: "https://v", authMethod: {} }, /^auth_method must have/],
    [
      {
        backendType: "vault",
        address: "https://v",
        authMethod: { token: "t", approle: { roleId: "r", secretId: "s" } },
      },
      /^auth_method must have exactly one/,
    ],
    [
      {
        backendType: "vault",
        address: "https://v",
        authMethod: { approle: { roleId: "r" } } as KmsConfigPatch["authMethod"],
      },
      /^auth_method\.approle\.secret_id /,
    ],
    [
      { backendType: "vault", address: "https://v", authMethod: { token: "has space" } },
      /^auth_method\.token contains/,
    ],
    [
      { backendType: "vault", address: "https://v", authMethod: { token: "t" }, keyDir: "/k" },
      /^key_dir does not apply to the vault/,
    ],
    [
      { backendType: "vault", address: "https://v", authMethod: { token: "t" }, mountPath: "/x" },
      /^mount_path /,
    ],
    [
      { backendType: "vault", address: "https://v", authMethod: { token: "t" }, caCertPath: "c" },
      /^ca_cert_path must be an absolute path$/,
    ],
  ])("rejects %j naming the field", (patch, message) => {
    expect(invalidMessage(patch)).toMatch(message);
  });

  it("never echoes a secret in a validation error", () => {
    const secret = "s3cr3t value with spaces";
    const messages = [
      invalidMessage({ backendType: "vault", address: "https://v", authMethod: { token: secret } }),
      invalidMessage({
        backendType: "vault",
        address: "https://v",
        authMethod: { approle: { roleId: "r", secretId: secret } },
      }),
      invalidMessage({ backendType: "vault", address: `https://u:${secret}@v`, authMethod: {} }),
    ];
    for (const message of messages) expect(message).not.toContain("s3cr3t");
  });

  it("merges a patch over the stored config and keeps the backend without backend_type", () => {
    const base = resolveConfig(
      { backendType: "local", keyDir: "/k", masterKey: "m", defaultKeyId: "d", maxCachedKeys: 9 },
      null,
      DEFAULT_DIR,
    );
    expect(resolveConfig({ cacheTtlSeconds: 60 }, base, DEFAULT_DIR)).toEqual({
      ...base,
      cacheTtlSeconds: 60,
    });
    expect(
      resolveConfig({ backendType: "Local", keyDir: "/j" }, base, DEFAULT_DIR).backend,
    ).toEqual({ backendType: "local", keyDir: "/j", masterKey: "m" });
    // An empty default_key_id clears it.
    expect(resolveConfig({ defaultKeyId: "" }, base, DEFAULT_DIR).defaultKeyId).toBeNull();
  });

  it("keeps a vault token when a reconfigure only changes the namespace", () => {
    const base = resolveConfig(
      { backendType: "vault", address: "https://v", authMethod: { token: "tok" } },
      null,
      DEFAULT_DIR,
    );
    expect(resolveConfig({ namespace: "ns" }, base, DEFAULT_DIR).backend).toMatchObject({
      authMethod: { token: "tok" },
      namespace: "ns",
    });
    expect(
      resolveConfig({ backendType: "vault-transit", namespace: "" }, base, DEFAULT_DIR).backend,
    ).toMatchObject({ namespace: null, address: "https://v" });
  });
});
