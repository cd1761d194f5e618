import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { useGateway } from "../helpers/gateway-process.js";
import type { RestAnswer } from "../helpers/signed-fetch.js";
import { sendAs, signedHeaderNames } from "./client-requests.js";

// The RustFS console (github.com/rustfs/console at
// ad64f5d2dfc4364e1fae5934df3d12e20e15cca9) replayed as a browser on another
// origin sends it: the calls of hooks/use-sse.ts, signed by lib/aws4fetch.ts
// (service s3, UNSIGNED-PAYLOAD, content-type unsigned) with the browser's
// Origin, asserting the fields app/(dashboard)/sse/page.tsx and types/kms.ts read.

const api = "/rustfs/admin/v3/kms";
const consoleOrigin = "http://localhost:9001";

describe("RustFS console: hooks/use-sse.ts from another origin", () => {
  const gw = useGateway({
    spawn: () => ({
      args: ["--kms-backend", "none", "--cors-origin", consoleOrigin],
    }),
  });
  const keysDir = mkdtempSync(join(tmpdir(), "kms-gateway-console-"));
  let keyId = "";

  /** The console's ApiClient: JSON.stringify of the body, signed by aws4fetch, with Origin. */
  function consoleCall(method: string, path: string, body?: unknown): Promise<RestAnswer> {
    return sendAs("aws4fetch", gw.url, {
      method,
      pathAndQuery: `${api}${path}`,
      body: body === undefined ? undefined : JSON.stringify(body),
      unsignedHeaders: { origin: consoleOrigin },
    });
  }

  /** Every answer to the console's origin carries its CORS header, or the browser hides it. */
  function read(answer: RestAnswer): Record<string, unknown> {
    expect(answer.headers.get("access-control-allow-origin")).toBe(consoleOrigin);
    expect(answer.status, answer.text).toBe(200);
    return answer.json as Record<string, unknown>;
  }

  it("signs as aws4fetch does: content-type unsigned", async () => {
    const names = await signedHeaderNames("aws4fetch", gw.url, {
      method: "POST",
      pathAndQuery: `${api}/configure`,
      body: "{}",
    });
    expect(names).toEqual(["host", "x-amz-content-sha256", "x-amz-date"]);
  });

  it("answers the browser's preflight without authentication (204, SigV4 headers allowed)", async () => {
    const answer = await fetch(`${gw.url}${api}/keys/delete?keyId=x`, {
      method: "OPTIONS",
      headers: {
        origin: consoleOrigin,
        "access-control-request-method": "DELETE",
        "access-control-request-headers": "authorization,x-amz-content-sha256,x-amz-date",
      },
    });
    expect(answer.status).toBe(204);
    expect(answer.headers.get("access-control-allow-origin")).toBe(consoleOrigin);
    expect(answer.headers.get("access-control-allow-methods")).toContain("DELETE");
    const allowed = answer.headers.get("access-control-allow-headers") ?? "";
    for (const header of ["authorization", "content-type", "x-amz-date", "x-amz-content-sha256"]) {
      expect(allowed).toContain(header);
    }
    expect(answer.headers.get("vary")).toContain("Origin");
  });

  it("gives another origin no CORS header, on a preflight or a signed call", async () => {
    const preflight = await fetch(`${gw.url}${api}/status`, {
      method: "OPTIONS",
      headers: { origin: "http://evil.example", "access-control-request-method": "GET" },
    });
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
    expect(preflight.status).toBe(401);
    const call = await sendAs("aws4fetch", gw.url, {
      method: "GET",
      pathAndQuery: `${api}/service-status`,
      unsignedHeaders: { origin: "http://evil.example" },
    });
    expect(call.status).toBe(200);
    expect(call.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("answers no preflight outside the admin API", async () => {
    for (const path of ["/not-the-admin-api", "/kms.admin.v1.KmsAdminService/GetStatus"]) {
      const answer = await fetch(`${gw.url}${path}`, {
        method: "OPTIONS",
        headers: { origin: consoleOrigin, "access-control-request-method": "POST" },
      });
      expect(answer.status).not.toBe(204);
      expect(answer.headers.get("access-control-allow-origin")).toBeNull();
    }
  });

  it("getKMSStatus (GET /kms/service-status): status, backend_type, healthy, config_summary", async () => {
    const status = read(await consoleCall("GET", "/service-status"));
    expect(status).toMatchObject({
      status: "NotConfigured",
      backend_type: null,
      config_summary: null,
    });
  });

  it("configureKMS with the console's Local payload (file_permissions, allow_insecure_dev_defaults)", async () => {
    const response = read(
      await consoleCall("POST", "/configure", {
        backend_type: "Local",
        key_dir: keysDir,
        file_permissions: 384,
        allow_insecure_dev_defaults: true,
        default_key_id: "console-default",
        enable_cache: true,
        max_cached_keys: 100,
        cache_ttl_seconds: 300,
      }),
    );
    // page.tsx: `if (response.success)`, else shows response.message.
    expect(response.success).toBe(true);
  });

  it("a group- or world-readable file_permissions is a 400 that says so", async () => {
    const answer = await consoleCall("POST", "/reconfigure", { file_permissions: 0o644 });
    expect(answer.status).toBe(400);
    expect(answer.text).toContain("owner-only");
  });

  it("startKMS({}) then startKMS({force: true}) restart: res.success", async () => {
    const started = read(await consoleCall("POST", "/start", {}));
    expect(started.success).toBe(true);
    const restarted = read(await consoleCall("POST", "/start", { force: true }));
    expect(restarted).toMatchObject({ success: true, status: "Running" });
    expect(restarted.message).toMatch(/restarted/);
    const status = read(await consoleCall("GET", "/service-status"));
    expect(status).toMatchObject({ status: "Running", healthy: true });
    expect(status.config_summary).toMatchObject({ default_key_id: "console-default" });
  });

  it("createKey (key_usage EncryptDecrypt, tags): reads key_id and success", async () => {
    const created = read(
      await consoleCall("POST", "/keys", {
        key_usage: "EncryptDecrypt",
        description: "console key",
        tags: { team: "storage" },
      }),
    );
    expect(created.success).not.toBe(false);
    keyId = (created.key_id ?? (created.key_metadata as { key_id: string }).key_id) as string;
    expect(typeof keyId).toBe("string");
  });

  it("getKeyList (?limit=): keys[].key_id, status, tags, description, created_at; truncated, next_marker", async () => {
    const listed = read(await consoleCall("GET", "/keys?limit=20"));
    expect(listed.truncated).toBe(false);
    expect(listed.next_marker).toBeNull();
    const entry = (listed.keys as Record<string, unknown>[]).find((k) => k.key_id === keyId);
    expect(entry).toMatchObject({
      description: "console key",
      status: "Active",
      tags: { team: "storage" },
      algorithm: "AES_256",
      usage: "ENCRYPT_DECRYPT",
    });
    expect(entry?.created_at).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/);
  });

  it("getKeyDetails (GET /kms/keys/{id}): key_metadata", async () => {
    const details = read(await consoleCall("GET", `/keys/${keyId}`));
    expect(details.key_metadata).toMatchObject({ key_id: keyId, key_state: "Enabled" });
  });

  it("deleteKey (DELETE ?keyId=&pending_window_in_days=, no body): success; the list shows PendingDeletion", async () => {
    const deleted = read(
      await consoleCall("DELETE", `/keys/delete?keyId=${keyId}&pending_window_in_days=7`),
    );
    expect(deleted.success).not.toBe(false);
    const listed = read(await consoleCall("GET", "/keys"));
    const entry = (listed.keys as { key_id: string; status: string }[]).find(
      (k) => k.key_id === keyId,
    );
    // page.tsx: `(key.status ?? "").toLowerCase().includes("pendingdeletion")`.
    expect(entry?.status.toLowerCase()).toContain("pendingdeletion");
  });

  it("forceDeleteKey (?force_immediate=true) is refused as RustFS refuses it; the key survives", async () => {
    const forced = await consoleCall("DELETE", `/keys/delete?keyId=${keyId}&force_immediate=true`);
    expect(forced.status).toBe(400);
    expect(forced.headers.get("access-control-allow-origin")).toBe(consoleOrigin);
    // page.tsx shows the error's message.
    expect((forced.json as { message: string }).message).toMatch(/force_immediate/);
  });

  it("cancelKeyDeletion (POST ?keyId= with body {}): success", async () => {
    const cancelled = read(
      await consoleCall("POST", `/keys/cancel-deletion?keyId=${encodeURIComponent(keyId)}`, {}),
    );
    expect(cancelled.success).not.toBe(false);
    expect(cancelled.key_metadata).toMatchObject({ key_state: "Enabled" });
  });

  it("getConfiguration and getDetailedStatus answer; clearCache answers 204 (the documented API)", async () => {
    expect(read(await consoleCall("GET", "/config")).backend).toBe("local");
    const detailed = read(await consoleCall("GET", "/status"));
    expect(detailed).toMatchObject({ status: "Running", backend_status: "healthy" });
    const cleared = await consoleCall("POST", "/clear-cache", {});
    expect(cleared.status).toBe(204);
    expect(cleared.headers.get("access-control-allow-origin")).toBe(consoleOrigin);
  });

  it("stopKMS: success", async () => {
    expect(read(await consoleCall("POST", "/stop", {})).success).toBe(true);
  });
});
