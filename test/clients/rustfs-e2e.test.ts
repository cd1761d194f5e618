import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { useGateway } from "../helpers/gateway-process.js";
import type { RestAnswer } from "../helpers/signed-fetch.js";
import { sendAs, signedHeaderNames } from "./client-requests.js";

// RustFS's own end-to-end suite (github.com/rustfs/rustfs at
// 20d1266496ba50dbec09b2263c504416840c61f7), replayed request by request: the
// configured local round trip of crates/e2e_test/src/kms/configured_roundtrip_test.rs
// (signed by `kms_admin_request` in crates/e2e_test/src/kms/common.rs:
// UNSIGNED-PAYLOAD, every header signed) and the awscurl flows of
// crates/e2e_test/src/kms/common.rs and kms_vault_test.rs (awscurl signs only
// host and x-amz-date). Each assertion is one the Rust test makes.

const api = "/rustfs/admin/v3/kms";

/** kmsAdminRequest is `kms_admin_request`: any non-2xx is an error whose text holds the body. */
async function kmsAdminRequest(
  base: string,
  method: string,
  pathAndQuery: string,
  body?: string,
): Promise<RestAnswer> {
  return sendAs("rustfs-e2e", base, { method, pathAndQuery, body });
}

/** awscurl is `execute_awscurl` (`--service s3 --region us-east-1 -X METHOD [-d BODY]`). */
function awscurl(base: string, method: string, pathAndQuery: string, body?: string) {
  return sendAs("awscurl", base, { method, pathAndQuery, body });
}

/** bodyOf is what the Rust helpers parse: the JSON of a 2xx answer. */
function bodyOf(answer: RestAnswer): Record<string, unknown> {
  expect(answer.status, answer.text).toBeGreaterThanOrEqual(200);
  expect(answer.status, answer.text).toBeLessThan(300);
  return answer.json as Record<string, unknown>;
}

describe("RustFS e2e: configured_roundtrip_test.rs (local backend)", () => {
  // RustFS starts its server with no KMS configured.
  const gw = useGateway({ spawn: () => ({ args: ["--kms-backend", "none"] }) });
  const keysDir = mkdtempSync(join(tmpdir(), "kms-gateway-rustfs-e2e-"));
  const defaultKeyId = "rustfs-e2e-test-default-key";
  let keyId = "";

  it("signs as kms_admin_request does: every header, UNSIGNED-PAYLOAD", async () => {
    const names = await signedHeaderNames("rustfs-e2e", gw.url, {
      method: "POST",
      pathAndQuery: `${api}/start`,
      body: "{}",
    });
    expect(names).toEqual(["content-type", "host", "x-amz-content-sha256", "x-amz-date"]);
  });

  it("start with nothing configured fails with 'no configuration provided' (configured_roundtrip_test.rs)", async () => {
    // start_kms (common.rs): POST /start with body "{}".
    const answer = await kmsAdminRequest(gw.url, "POST", `${api}/start`, "{}");
    expect(answer.status).toBe(409);
    expect(answer.text).toContain("no configuration provided");
  });

  it("a Local configuration without a master key is refused: 'requires a master key' (configured_roundtrip_test.rs)", async () => {
    const insecure = JSON.stringify({
      backend_type: "Local",
      key_dir: keysDir,
      file_permissions: 0o600,
      default_key_id: defaultKeyId,
    });
    const answer = await kmsAdminRequest(gw.url, "POST", `${api}/configure`, insecure);
    expect(answer.status).toBe(400);
    expect(answer.text).toContain("requires a master key");
  });

  it("configure_local_kms with allow_insecure_dev_defaults succeeds, then start_kms (common.rs)", async () => {
    const config = JSON.stringify({
      backend_type: "Local",
      key_dir: keysDir,
      file_permissions: 0o600,
      default_key_id: defaultKeyId,
      allow_insecure_dev_defaults: true,
    });
    // configure_kms: `response["success"] != true` is an error.
    expect(bodyOf(await kmsAdminRequest(gw.url, "POST", `${api}/configure`, config)).success).toBe(
      true,
    );
    expect(bodyOf(await kmsAdminRequest(gw.url, "POST", `${api}/start`, "{}")).success).toBe(true);
  });

  it("wait_for_kms_ready / assert_configured_status read backend_type, backend_status, default_key_id", async () => {
    // get_kms_status: GET /status, no body.
    const status = bodyOf(await kmsAdminRequest(gw.url, "GET", `${api}/status`));
    expect(status.backend_status).toBe("healthy");
    expect(status.backend_type).toBe("local");
    expect(status.default_key_id).toBe(defaultKeyId);
  });

  it("create_and_verify_key: create, describe and list read success, key_id, key_state", async () => {
    const created = bodyOf(
      await kmsAdminRequest(
        gw.url,
        "POST",
        `${api}/keys`,
        JSON.stringify({
          key_usage: "EncryptDecrypt",
          description: "configured KMS round-trip e2e key",
          tags: { test: "backlog-1378" },
        }),
      ),
    );
    expect(created.success).toBe(true);
    expect(typeof created.key_id).toBe("string");
    keyId = created.key_id as string;

    const described = bodyOf(await kmsAdminRequest(gw.url, "GET", `${api}/keys/${keyId}`));
    expect(described.success).toBe(true);
    expect(described.key_metadata).toMatchObject({ key_id: keyId, key_state: "Enabled" });

    const listed = bodyOf(await kmsAdminRequest(gw.url, "GET", `${api}/keys`));
    const keys = listed.keys as { key_id: string }[];
    expect(keys.some((key) => key.key_id === keyId)).toBe(true);
  });

  it("assert_key_deletion_lifecycle: schedule with force_immediate false, then cancel", async () => {
    const scheduled = bodyOf(
      await kmsAdminRequest(
        gw.url,
        "DELETE",
        `${api}/keys/delete`,
        JSON.stringify({ key_id: keyId, pending_window_in_days: 7, force_immediate: false }),
      ),
    );
    expect(scheduled.success).toBe(true);
    expect(typeof scheduled.deletion_date).toBe("string");

    const cancelled = bodyOf(
      await kmsAdminRequest(
        gw.url,
        "POST",
        `${api}/keys/cancel-deletion`,
        JSON.stringify({ key_id: keyId }),
      ),
    );
    expect(cancelled.success).toBe(true);
    expect(cancelled.key_metadata).toMatchObject({ key_state: "Enabled" });
  });

  it("assert_key_deletion_lifecycle: 6 and 31 day windows are 400", async () => {
    for (const days of [6, 31]) {
      const refused = await kmsAdminRequest(
        gw.url,
        "DELETE",
        `${api}/keys/delete`,
        JSON.stringify({ key_id: keyId, pending_window_in_days: days }),
      );
      expect(refused.status).toBe(400);
    }
  });

  it("assert_key_deletion_lifecycle: force_immediate in the query, or on a default server, is 400 and leaves the key Enabled", async () => {
    const byQuery = await kmsAdminRequest(
      gw.url,
      "DELETE",
      `${api}/keys/delete?keyId=${keyId}&force_immediate=true`,
    );
    expect(byQuery.status).toBe(400);
    const byBody = await kmsAdminRequest(
      gw.url,
      "DELETE",
      `${api}/keys/delete`,
      JSON.stringify({ key_id: keyId, force_immediate: true }),
    );
    expect(byBody.status).toBe(400);
    const described = bodyOf(await kmsAdminRequest(gw.url, "GET", `${api}/keys/${keyId}`));
    expect(described.key_metadata).toMatchObject({ key_state: "Enabled" });
  });

  it("assert_key_deletion_lifecycle: reschedule, then the list entry's status is PendingDeletion", async () => {
    const rescheduled = bodyOf(
      await kmsAdminRequest(
        gw.url,
        "DELETE",
        `${api}/keys/delete`,
        JSON.stringify({ key_id: keyId, pending_window_in_days: 7 }),
      ),
    );
    expect(rescheduled.success).toBe(true);
    expect(typeof rescheduled.deletion_date).toBe("string");

    const listed = bodyOf(await kmsAdminRequest(gw.url, "GET", `${api}/keys`));
    expect(listed.success).toBe(true);
    const entry = (listed.keys as { key_id: string; status: string }[]).find(
      (key) => key.key_id === keyId,
    );
    expect(entry?.status).toBe("PendingDeletion");
  });
});

describe("RustFS e2e: awscurl flows (common.rs test_kms_key_management, kms_vault_test.rs CRUD)", () => {
  const gw = useGateway({
    spawn: () => ({ env: { RUSTFS_KMS_LOCAL_MASTER_KEY: "rustfs-awscurl-master-key-0123456789" } }),
  });

  it("signs as awscurl does: host and x-amz-date only", async () => {
    const names = await signedHeaderNames("awscurl", gw.url, {
      method: "POST",
      pathAndQuery: `${api}/keys`,
      body: "{}",
    });
    expect(names).toEqual(["host", "x-amz-date"]);
  });

  it("create_default_key (common.rs): key_usage ENCRYPT_DECRYPT, reads key_id", async () => {
    const created = bodyOf(
      await awscurl(
        gw.url,
        "POST",
        `${api}/keys`,
        JSON.stringify({
          key_usage: "ENCRYPT_DECRYPT",
          description: "Default key for e2e testing",
        }),
      ),
    );
    expect(typeof created.key_id).toBe("string");
  });

  it("test_kms_key_management (common.rs): create, describe by path, find in list", async () => {
    const created = bodyOf(
      await awscurl(
        gw.url,
        "POST",
        `${api}/keys`,
        JSON.stringify({ key_usage: "EncryptDecrypt", description: "Test key for e2e testing" }),
      ),
    );
    const keyId = created.key_id as string;
    const described = bodyOf(await awscurl(gw.url, "GET", `${api}/keys/${keyId}`));
    expect((described.key_metadata as { key_id: string }).key_id).toBe(keyId);
    const listed = bodyOf(await awscurl(gw.url, "GET", `${api}/keys`));
    expect((listed.keys as { key_id: string }[]).some((k) => k.key_id === keyId)).toBe(true);
  });

  it("kms_vault_test.rs CRUD: tags in describe and list, window refusals, query delete, PendingDeletion, refused force delete", async () => {
    const created = bodyOf(
      await awscurl(
        gw.url,
        "POST",
        `${api}/keys`,
        JSON.stringify({
          key_usage: "EncryptDecrypt",
          description: "Test key for CRUD operations",
          tags: {
            name: "test-vault-key-crud",
            algorithm: "AES-256",
            created_by: "e2e_test",
            test_type: "crud",
          },
        }),
      ),
    );
    const keyId = created.key_id as string;
    const described = bodyOf(await awscurl(gw.url, "GET", `${api}/keys/${keyId}`));
    const metadata = described.key_metadata as Record<string, unknown>;
    expect(metadata.key_id).toBe(keyId);
    expect(metadata.key_state).toBe("Enabled");
    expect(metadata.tags).toMatchObject({ created_by: "e2e_test", test_type: "crud" });

    const listed = bodyOf(await awscurl(gw.url, "GET", `${api}/keys`));
    const entry = (listed.keys as Record<string, unknown>[]).find((k) => k.key_id === keyId);
    expect(entry?.tags).toMatchObject({ created_by: "e2e_test" });

    for (const days of [6, 31]) {
      const refused = await awscurl(
        gw.url,
        "DELETE",
        `${api}/keys/delete?keyId=${keyId}&pending_window_in_days=${days}`,
      );
      expect(refused.status).toBe(400);
    }
    const deleted = bodyOf(await awscurl(gw.url, "DELETE", `${api}/keys/delete?keyId=${keyId}`));
    expect(deleted.success).toBe(true);
    const after = bodyOf(await awscurl(gw.url, "GET", `${api}/keys/${keyId}`));
    expect((after.key_metadata as { key_state: string }).key_state).toBe("PendingDeletion");

    const forced = await awscurl(
      gw.url,
      "DELETE",
      `${api}/keys/delete?keyId=${keyId}&force_immediate=true`,
    );
    expect(forced.status).toBe(400);
    const still = bodyOf(await awscurl(gw.url, "GET", `${api}/keys/${keyId}`));
    expect((still.key_metadata as { key_state: string }).key_state).toBe("PendingDeletion");
  });

  it("CORS is off by default: a preflight gets no CORS header", async () => {
    const answer = await fetch(`${gw.url}${api}/status`, {
      method: "OPTIONS",
      headers: { origin: "http://localhost:9001", "access-control-request-method": "GET" },
    });
    expect(answer.headers.get("access-control-allow-origin")).toBeNull();
    expect(answer.status).toBe(401);
  });
});

describe("RustFS immediate deletion (crates/kms/src/types.rs DeleteKeyRequest: force_immediate + confirm_key_id)", () => {
  const gw = useGateway({
    spawn: () => ({
      args: ["--allow-immediate-deletion"],
      env: { RUSTFS_KMS_LOCAL_MASTER_KEY: "rustfs-immediate-master-key-0123456789" },
    }),
  });

  it("destroys the key only when confirm_key_id repeats key_id; the body, not the query", async () => {
    const created = bodyOf(
      await kmsAdminRequest(gw.url, "POST", `${api}/keys`, JSON.stringify({ description: "gone" })),
    );
    const keyId = created.key_id as string;
    const unconfirmed = await kmsAdminRequest(
      gw.url,
      "DELETE",
      `${api}/keys/delete`,
      JSON.stringify({ key_id: keyId, force_immediate: true }),
    );
    expect(unconfirmed.status).toBe(400);
    expect(unconfirmed.text).toContain("confirm_key_id");
    const wrong = await kmsAdminRequest(
      gw.url,
      "DELETE",
      `${api}/keys/delete`,
      JSON.stringify({ key_id: keyId, force_immediate: true, confirm_key_id: `${keyId}x` }),
    );
    expect(wrong.status).toBe(400);
    const byQuery = await kmsAdminRequest(
      gw.url,
      "DELETE",
      `${api}/keys/delete?keyId=${keyId}&force_immediate=true&confirm_key_id=${keyId}`,
    );
    expect(byQuery.status).toBe(400);
    expect((await kmsAdminRequest(gw.url, "GET", `${api}/keys/${keyId}`)).status).toBe(200);

    const destroyed = bodyOf(
      await kmsAdminRequest(
        gw.url,
        "DELETE",
        `${api}/keys/delete`,
        JSON.stringify({ key_id: keyId, force_immediate: true, confirm_key_id: keyId }),
      ),
    );
    expect(destroyed.success).toBe(true);
    expect(typeof destroyed.deletion_date).toBe("string");
    expect((await kmsAdminRequest(gw.url, "GET", `${api}/keys/${keyId}`)).status).toBe(404);
  });
});
