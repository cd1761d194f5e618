import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { useGateway } from "../helpers/gateway-process.js";
import type { RestAnswer } from "../helpers/signed-fetch.js";
import { sendAs, signedHeaderNames } from "./client-requests.js";

// RustFS's `rc` CLI. Its KMS commands are not in the stored source of
// github.com/rustfs/cli (08dd9c04b0df7e0e33483347655755dda89fc023 has an admin
// client, crates/s3/src/admin.rs, but no KMS command), so this replays what
// RustFS documents rc as sending (rustfs/rustfs
// 20d1266496ba50dbec09b2263c504416840c61f7, docs/operations/kms-admin-contract.md
// "rc" column: configure/reconfigure/start/stop, status, key create/list/status/
// delete/cancel-deletion, with `rc key list` on GET /kms/list-keys and `rc key
// status` on GET /kms/key/status), with bodies serialised from RustFS's request
// types as serde writes them — every Option present, unset ones as null
// (crates/kms/src/api_types.rs ConfigureLocalKmsRequest and StartKmsRequest,
// rustfs/src/admin/handlers/kms_keys.rs CreateKmsKeyRequest,
// crates/kms/src/types.rs DeleteKeyRequest) — signed as rc's admin client signs
// (crates/s3/src/admin.rs: x-amz-content-sha256, host, content-type, all signed).

const api = "/rustfs/admin/v3/kms";

function rc(base: string, method: string, pathAndQuery: string, body?: unknown) {
  return sendAs("rc", base, {
    method,
    pathAndQuery,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

function ok(answer: RestAnswer): Record<string, unknown> {
  expect(answer.status, answer.text).toBe(200);
  return answer.json as Record<string, unknown>;
}

/** localConfig is ConfigureLocalKmsRequest as serde writes it: every field, None as null. */
function localConfig(keyDir: string, overrides: Record<string, unknown>) {
  return {
    backend_type: "Local",
    key_dir: keyDir,
    master_key: null,
    file_permissions: null,
    default_key_id: null,
    timeout_seconds: null,
    retry_attempts: null,
    enable_cache: null,
    max_cached_keys: null,
    cache_ttl_seconds: null,
    allow_insecure_dev_defaults: null,
    ...overrides,
  };
}

describe("rc: KMS admin flows with every optional field serialised as null", () => {
  const gw = useGateway({ spawn: () => ({ args: ["--kms-backend", "none"] }) });
  const keyDir = mkdtempSync(join(tmpdir(), "kms-gateway-rc-"));
  let keyId = "";

  it("signs as rc's admin client does: content-type, host, x-amz-content-sha256, x-amz-date", async () => {
    const names = await signedHeaderNames("rc", gw.url, {
      method: "POST",
      pathAndQuery: `${api}/configure`,
      body: "{}",
    });
    expect(names).toEqual(["content-type", "host", "x-amz-content-sha256", "x-amz-date"]);
  });

  it("`rc admin kms status` before configuration (GET /kms/status)", async () => {
    expect(ok(await rc(gw.url, "GET", `${api}/status`)).status).toBe("NotConfigured");
  });

  it("configure with nulls and no master key is the 400 RustFS gives; with a master key it succeeds", async () => {
    const refused = await rc(gw.url, "POST", `${api}/configure`, localConfig(keyDir, {}));
    expect(refused.status).toBe(400);
    expect(refused.text).toContain("requires a master key (or allow_insecure_dev_defaults)");
    const configured = ok(
      await rc(
        gw.url,
        "POST",
        `${api}/configure`,
        localConfig(keyDir, {
          master_key: "rc-master-key-0123456789abcdef0123456789",
          file_permissions: 384,
          default_key_id: "rc-default",
        }),
      ),
    );
    expect(configured).toMatchObject({ success: true, status: "Configured" });
  });

  it("a mode with group or other bits is refused, naming file_permissions", async () => {
    const refused = await rc(
      gw.url,
      "POST",
      `${api}/reconfigure`,
      localConfig(keyDir, { file_permissions: 0o666 }),
    );
    expect(refused.status).toBe(400);
    expect(refused.text).toContain("file_permissions must be owner-only");
  });

  it("`rc admin kms start` ({force: null}), then `restart` ({force: true})", async () => {
    expect(ok(await rc(gw.url, "POST", `${api}/start`, { force: null })).success).toBe(true);
    const again = await rc(gw.url, "POST", `${api}/start`, { force: null });
    expect(again.status).toBe(409);
    const restarted = ok(await rc(gw.url, "POST", `${api}/start`, { force: true }));
    expect(restarted).toMatchObject({ success: true, status: "Running" });
  });

  it("`rc admin kms status` (GET /kms/status): status, backend_status, default_key_id", async () => {
    const status = ok(await rc(gw.url, "GET", `${api}/status`));
    expect(status).toMatchObject({
      status: "Running",
      backend_type: "local",
      backend_status: "healthy",
      default_key_id: "rc-default",
    });
  });

  it("`rc admin kms key create` (CreateKmsKeyRequest with nulls): success, key_id", async () => {
    const created = ok(
      await rc(gw.url, "POST", `${api}/keys`, {
        key_usage: "EncryptDecrypt",
        description: null,
        tags: null,
      }),
    );
    expect(created.success).toBe(true);
    keyId = created.key_id as string;
    expect(created.key_metadata).toMatchObject({ key_id: keyId, description: null });
  });

  it("`rc admin kms key list` (GET /kms/list-keys): keys[].key_id and status", async () => {
    const listed = ok(await rc(gw.url, "GET", `${api}/list-keys`));
    expect(listed).toMatchObject({ truncated: false, next_marker: null, success: true });
    const entry = (listed.keys as Record<string, unknown>[]).find((k) => k.key_id === keyId);
    expect(entry).toMatchObject({ status: "Active", key_state: "Enabled" });
    // The same query contract as /kms/keys.
    const page = ok(await rc(gw.url, "GET", `${api}/list-keys?limit=1`));
    expect((page.keys as unknown[]).length).toBe(1);
  });

  it("`rc admin kms key status` (GET /kms/key/status?key-id=): key_metadata, and no errors", async () => {
    const status = ok(
      await rc(gw.url, "GET", `${api}/key/status?key-id=${encodeURIComponent(keyId)}`),
    );
    expect(status.key_metadata).toMatchObject({ key_id: keyId, key_state: "Enabled" });
    expect(status["key-id"]).toBe(keyId);
    expect(status).not.toHaveProperty("encryption-error");
  });

  it("legacy describe takes keyId, key-id or key; the first non-empty wins", async () => {
    for (const query of [
      `keyId=${keyId}`,
      `key-id=${keyId}`,
      `key=${keyId}`,
      `keyId=&key=${keyId}`,
    ]) {
      const described = ok(await rc(gw.url, "GET", `${api}/describe-key?${query}`));
      expect(described.key_metadata).toMatchObject({ key_id: keyId });
    }
    const missing = await rc(gw.url, "GET", `${api}/describe-key?keyId=`);
    expect(missing.status).toBe(400);
    expect(missing.text).toContain("missing required parameter: 'keyId'");
  });

  it("`rc admin kms key delete` (DeleteKeyRequest with nulls) schedules 30 days; cancel-deletion restores it", async () => {
    const scheduled = ok(
      await rc(gw.url, "DELETE", `${api}/keys/delete`, {
        key_id: keyId,
        pending_window_in_days: null,
        force_immediate: null,
        confirm_key_id: null,
      }),
    );
    expect(scheduled.success).toBe(true);
    const days = (Date.parse(scheduled.deletion_date as string) - Date.now()) / 86_400_000;
    expect(Math.round(days)).toBe(30);
    expect(scheduled.deletion_date).toBe(
      (scheduled.key_metadata as { deletion_date: string }).deletion_date,
    );
    const cancelled = ok(
      await rc(gw.url, "POST", `${api}/keys/cancel-deletion`, { key_id: keyId }),
    );
    expect(cancelled).toMatchObject({ success: true, key_metadata: { key_state: "Enabled" } });
  });

  it("`rc admin kms stop`", async () => {
    expect(ok(await rc(gw.url, "POST", `${api}/stop`)).success).toBe(true);
  });
});
