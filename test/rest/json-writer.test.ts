import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import {
  CreateKeyResponseSchema,
  DescribeKeyResponseSchema,
  GenerateDataKeyResponseSchema,
  GetConfigResponseSchema,
  GetStatusResponseSchema,
  ListKeysResponseSchema,
} from "../../gen/kms/admin/v1/service_pb.js";
import { BackendSummarySchema } from "../../gen/kms/admin/v1/types_pb.js";
import { writeRestJson } from "../../src/rest/json-writer.js";

const created = timestampFromDate(new Date("2024-09-18T07:10:42.012Z"));
created.nanos = 12_345_000;

describe("writeRestJson", () => {
  it("writes GetStatus exactly like the seed's vault example", () => {
    const msg = create(GetStatusResponseSchema, {
      status: "Running",
      backendType: "vault",
      healthy: true,
      configSummary: {
        backendType: "vault",
        defaultKeyId: "rustfs-master",
        timeoutSeconds: 30,
        retryAttempts: 3,
        enableCache: true,
        cacheSummary: { maxKeys: 1024, ttlSeconds: 600, enableMetrics: true },
        backendSummary: {
          summary: {
            case: "vault",
            value: {
              backendType: "vault",
              address: "https://vault.example.com:8200",
              authMethodType: "token",
              mountPath: "transit",
              kvMount: "secret",
              keyPathPrefix: "rustfs/kms/keys",
            },
          },
        },
      },
    });
    // Verbatim from seed/kms-admin-http-api.md, "GET /kms/status", key order included,
    // then the additive cache_stats (unset here, so null).
    expect(JSON.stringify(writeRestJson(GetStatusResponseSchema, msg))).toBe(
      JSON.stringify({
        status: "Running",
        backend_type: "vault",
        healthy: true,
        config_summary: {
          backend_type: "vault",
          default_key_id: "rustfs-master",
          timeout_seconds: 30,
          retry_attempts: 3,
          enable_cache: true,
          cache_summary: { max_keys: 1024, ttl_seconds: 600, enable_metrics: true },
          backend_summary: {
            backend_type: "vault",
            address: "https://vault.example.com:8200",
            auth_method_type: "token",
            namespace: null,
            mount_path: "transit",
            kv_mount: "secret",
            key_path_prefix: "rustfs/kms/keys",
          },
        },
        cache_stats: null,
      }),
    );
  });

  it("flattens a local backend summary and writes unset optionals as null", () => {
    const msg = create(GetStatusResponseSchema, {
      status: "Configured",
      backendType: "local",
      configSummary: {
        backendType: "local",
        backendSummary: {
          summary: {
            case: "local",
            value: { backendType: "local", keyDir: "/data/keys", hasMasterKey: true },
          },
        },
      },
    });
    const json = writeRestJson(GetStatusResponseSchema, msg) as Record<string, unknown>;
    const summary = json.config_summary as Record<string, unknown>;
    expect(summary.backend_summary).toStrictEqual({
      backend_type: "local",
      key_dir: "/data/keys",
      has_master_key: true,
    });
    expect(summary.default_key_id).toBeNull();
    expect(summary.cache_summary).toBeNull();
  });

  it("writes config_summary and backend_type null when nothing is configured", () => {
    const msg = create(GetStatusResponseSchema, { status: "NotConfigured" });
    expect(writeRestJson(GetStatusResponseSchema, msg)).toStrictEqual({
      status: "NotConfigured",
      backend_type: null,
      healthy: false,
      config_summary: null,
      cache_stats: null,
    });
  });

  it("writes a union with no member set as null", () => {
    expect(writeRestJson(BackendSummarySchema, create(BackendSummarySchema))).toBeNull();
  });

  it("writes GetConfig like the seed, with null for an unset default key", () => {
    const msg = create(GetConfigResponseSchema, {
      backend: "vault",
      cacheEnabled: true,
      cacheMaxKeys: 1024,
      cacheTtlSeconds: 600,
    });
    expect(writeRestJson(GetConfigResponseSchema, msg)).toStrictEqual({
      backend: "vault",
      cache_enabled: true,
      cache_max_keys: 1024,
      cache_ttl_seconds: 600,
      default_key_id: null,
    });
  });

  it("writes ListKeys with next_marker null and null descriptions in entries", () => {
    const msg = create(ListKeysResponseSchema, {
      keys: [
        {
          keyId: "fa5bac0e-2a2c-4f9a-a09d-2f5b8a59ed85",
          description: "project-alpha",
          keyState: "Enabled",
        },
        { keyId: "b", keyState: "Disabled" },
      ],
      truncated: false,
    });
    expect(writeRestJson(ListKeysResponseSchema, msg)).toStrictEqual({
      keys: [
        {
          key_id: "fa5bac0e-2a2c-4f9a-a09d-2f5b8a59ed85",
          description: "project-alpha",
          key_state: "Enabled",
          // The additive fields RustFS clients read (issue 10), unset here.
          status: "",
          tags: {},
          algorithm: "",
          usage: "",
          created_at: null,
        },
        {
          key_id: "b",
          description: null,
          key_state: "Disabled",
          status: "",
          tags: {},
          algorithm: "",
          usage: "",
          created_at: null,
        },
      ],
      truncated: false,
      next_marker: null,
      unreadable_key_ids: [],
      success: false,
      message: "",
    });
  });

  it("writes key metadata with deletion_date null and an RFC 3339 creation_date", () => {
    const msg = create(DescribeKeyResponseSchema, {
      keyMetadata: {
        keyId: "fa5bac0e-2a2c-4f9a-a09d-2f5b8a59ed85",
        description: "project-alpha",
        enabled: true,
        keyUsage: "ENCRYPT_DECRYPT",
        creationDate: created,
        keyState: "Enabled",
        keySpec: "AES_256",
        tags: { owner: "security" },
      },
    });
    expect(writeRestJson(DescribeKeyResponseSchema, msg)).toStrictEqual({
      key_metadata: {
        key_id: "fa5bac0e-2a2c-4f9a-a09d-2f5b8a59ed85",
        description: "project-alpha",
        enabled: true,
        key_usage: "ENCRYPT_DECRYPT",
        creation_date: "2024-09-18T07:10:42.012345Z",
        deletion_date: null,
        rotation_enabled: false,
        key_state: "Enabled",
        key_spec: "AES_256",
        tags: { owner: "security" },
        key_version: 0,
        rotation_date: null,
      },
      success: false,
      message: "",
    });
  });

  it("writes an unset message field as null", () => {
    const json = writeRestJson(
      CreateKeyResponseSchema,
      create(CreateKeyResponseSchema, { keyId: "k" }),
    );
    expect(json).toStrictEqual({ key_id: "k", key_metadata: null, success: false, message: "" });
  });

  it("writes bytes as standard base64 with padding", () => {
    const msg = create(GenerateDataKeyResponseSchema, {
      keyId: "k",
      plaintextKey: new Uint8Array([0xfb, 0xff, 0xbf]),
      ciphertextBlob: new Uint8Array([0xfa]),
    });
    expect(writeRestJson(GenerateDataKeyResponseSchema, msg)).toStrictEqual({
      key_id: "k",
      plaintext_key: "+/+/",
      ciphertext_blob: "+g==",
    });
  });
});
