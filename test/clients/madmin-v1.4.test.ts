import { describe, expect, it } from "vitest";
import { useGateway } from "../helpers/gateway-process.js";
import type { RestAnswer } from "../helpers/signed-fetch.js";
import { sendAs, signedHeaderNames } from "./client-requests.js";

// madmin-go v1.4 (github.com/minio/madmin-go tag v1.4.29,
// 120622ccdf622380f3b6da2894433e296ddab2ab), as `mc admin kms` of that era
// calls it: kms-commands.go's KMSStatus, CreateKey and GetKeyStatus under
// /minio/admin/v3, signed by api.go's newRequest (minio-go signer: host,
// x-amz-content-sha256 = hex SHA-256 of the body, x-amz-date). Each request is
// built as madmin builds it (url.Values for the query) and each assertion is
// on the fields madmin decodes (Go's encoding/json ignores unknown fields).

const admin = "/minio/admin/v3";

/** madminCall is `executeMethod`: any status but 200 is an error for these three calls. */
function madminCall(base: string, method: string, pathAndQuery: string): Promise<RestAnswer> {
  return sendAs("madmin", base, { method, pathAndQuery });
}

function decoded(answer: RestAnswer): Record<string, unknown> {
  // `if resp.StatusCode != http.StatusOK { return …, httpRespToErrorResponse(resp) }`
  expect(answer.status, answer.text).toBe(200);
  return answer.json as Record<string, unknown>;
}

describe("madmin-go v1.4: kms-commands.go under /minio/admin/v3", () => {
  const gw = useGateway({
    spawn: () => ({
      env: {
        RUSTFS_KMS_LOCAL_MASTER_KEY: "madmin-v14-master-key-0123456789",
        RUSTFS_KMS_DEFAULT_KEY_ID: "minio-default",
      },
    }),
  });

  it("signs as minio-go does: host, x-amz-content-sha256, x-amz-date", async () => {
    const names = await signedHeaderNames("madmin", gw.url, {
      method: "POST",
      pathAndQuery: `${admin}/kms/key/create?key-id=x`,
    });
    expect(names).toEqual(["host", "x-amz-content-sha256", "x-amz-date"]);
  });

  it("CreateKey: POST /kms/key/create?key-id=NAME with no body answers 200 and names the key NAME", async () => {
    for (const name of ["minio-default", "my-minio-key"]) {
      const created = await madminCall(gw.url, "POST", `${admin}/kms/key/create?key-id=${name}`);
      expect(created.status, created.text).toBe(200);
    }
    // The key really is named so (read back through the documented API).
    const described = decoded(
      await madminCall(gw.url, "GET", "/rustfs/admin/v3/kms/keys/my-minio-key"),
    );
    expect(described.key_metadata).toMatchObject({ key_id: "my-minio-key" });
    // A second create of the same name is refused, not a silent success.
    const again = await madminCall(gw.url, "POST", `${admin}/kms/key/create?key-id=my-minio-key`);
    expect(again.status).toBe(409);
  });

  it("KMSStatus: GET /kms/status decodes name, default-key-id and endpoints", async () => {
    const status = decoded(await madminCall(gw.url, "GET", `${admin}/kms/status`));
    expect(status.name).toBe("kms-gateway");
    expect(status["default-key-id"]).toBe("minio-default");
    const endpoints = status.endpoints as Record<string, string>;
    expect(Object.values(endpoints)).toEqual(["online"]);
    // The documented status fields are all still there, spelled as documented.
    expect(status).toMatchObject({ status: "Running", healthy: true, backend_type: "local" });
  });

  it("GetKeyStatus: GET /kms/key/status?key-id=NAME answers key-id and no errors after a real wrap and unwrap", async () => {
    const status = decoded(
      await madminCall(gw.url, "GET", `${admin}/kms/key/status?key-id=my-minio-key`),
    );
    expect(status["key-id"]).toBe("my-minio-key");
    expect(status).not.toHaveProperty("encryption-error");
    expect(status).not.toHaveProperty("decryption-error");
  });

  it('GetKeyStatus with an empty key-id (qv.Set("key-id", "")) reports the default key', async () => {
    const status = decoded(await madminCall(gw.url, "GET", `${admin}/kms/key/status?key-id=`));
    expect(status["key-id"]).toBe("minio-default");
    expect(status).not.toHaveProperty("encryption-error");
  });

  it("GetKeyStatus of a disabled key reports its encryption-error (the status really tries the key)", async () => {
    const disabled = await sendAs("madmin", gw.url, {
      method: "POST",
      pathAndQuery: "/rustfs/admin/v3/kms/keys/disable",
      body: JSON.stringify({ key_id: "my-minio-key" }),
    });
    expect(disabled.status).toBe(200);
    const status = decoded(
      await madminCall(gw.url, "GET", `${admin}/kms/key/status?key-id=my-minio-key`),
    );
    expect(status["key-id"]).toBe("my-minio-key");
    expect(status["encryption-error"]).toMatch(/Disabled/);
    expect(status).not.toHaveProperty("decryption-error");
  });

  it("GetKeyStatus of an unknown key is the documented 404", async () => {
    const answer = await madminCall(gw.url, "GET", `${admin}/kms/key/status?key-id=no-such-key`);
    expect(answer.status).toBe(404);
    expect(answer.json).toMatchObject({ code: "NotFound" });
  });
});

describe("RustFS's POST /kms/status compatibility route (rustfs/src/admin/handlers/kms_management.rs)", () => {
  const gw = useGateway({
    spawn: () => ({ env: { RUSTFS_KMS_LOCAL_MASTER_KEY: "post-status-master-key-0123456789" } }),
  });

  it("answers POST /kms/status like GET, under both prefixes", async () => {
    const get = decoded(await madminCall(gw.url, "GET", "/rustfs/admin/v3/kms/status"));
    for (const prefix of ["/rustfs/admin/v3", admin]) {
      const post = decoded(await madminCall(gw.url, "POST", `${prefix}/kms/status`));
      expect(post).toMatchObject({
        status: get.status,
        backend_type: get.backend_type,
        healthy: get.healthy,
        backend_status: "healthy",
      });
    }
  });
});
