import { describe, expect, it } from "vitest";
import { useGateway } from "../helpers/gateway-process.js";
import type { RestAnswer } from "../helpers/signed-fetch.js";
import { sendAs } from "./client-requests.js";

// Current `mc admin kms` (github.com/minio/mc at
// 77f82e18b5401a65958f1619df6ebb994634bd88: cmd/admin-kms-key-create.go,
// admin-kms-key-list.go, admin-kms-key-status.go) through the madmin-go it pins
// (v3.0.107-0.20250415152934-4b504b82db63) and madmin-go's HEAD
// (66b99c318240b2cff07d9e535e12321bf9e1059a), whose kms-commands.go calls
// MinIO's KMS router /minio/kms/v1 through doKMSRequest (query from
// url.Values, no body, signed as api.go's newRequest signs). Each assertion is
// on what madmin decodes and mc prints.

const kms = "/minio/kms/v1";

function mc(base: string, method: string, pathAndQuery: string): Promise<RestAnswer> {
  return sendAs("madmin", base, { method, pathAndQuery });
}

function decoded(answer: RestAnswer): unknown {
  // doKMSRequest callers: `if resp.StatusCode != http.StatusOK { … error }`.
  expect(answer.status, answer.text).toBe(200);
  return answer.json;
}

describe("mc admin kms / madmin-go: the /minio/kms/v1 router", () => {
  const gw = useGateway({
    spawn: () => ({
      env: {
        RUSTFS_KMS_LOCAL_MASTER_KEY: "mc-current-master-key-0123456789",
        RUSTFS_KMS_DEFAULT_KEY_ID: "mc-default",
      },
    }),
  });

  it("`mc admin kms key create ALIAS NAME` (CreateKey: POST /key/create?key-id=NAME, no body) answers 200", async () => {
    for (const name of ["mc-default", "app-key-1", "app-key-2", "other-key"]) {
      expect((await mc(gw.url, "POST", `${kms}/key/create?key-id=${name}`)).status).toBe(200);
    }
  });

  it('`mc admin kms key list ALIAS` (ListKeys(ctx, "*"): GET /key/list?pattern=*) decodes []KMSKeyInfo', async () => {
    const keys = decoded(await mc(gw.url, "GET", `${kms}/key/list?pattern=*`)) as {
      name: string;
      createdAt: string;
      createdBy: string;
    }[];
    // mc prints k.Name per row.
    expect(keys.map((k) => k.name)).toEqual(["app-key-1", "app-key-2", "mc-default", "other-key"]);
    // createdAt decodes as a Go time.Time (RFC 3339).
    for (const key of keys) {
      expect(Number.isNaN(Date.parse(key.createdAt))).toBe(false);
      expect(key.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    }
  });

  it("ListKeys with a KES pattern (`app-*`) lists only the matching keys", async () => {
    const keys = decoded(await mc(gw.url, "GET", `${kms}/key/list?pattern=app-*`)) as {
      name: string;
    }[];
    expect(keys.map((k) => k.name)).toEqual(["app-key-1", "app-key-2"]);
  });

  it("`mc admin kms key status ALIAS NAME` (GetKeyStatus: GET /key/status?key-id=NAME) decodes KMSKeyStatus", async () => {
    const status = decoded(await mc(gw.url, "GET", `${kms}/key/status?key-id=app-key-1`)) as Record<
      string,
      unknown
    >;
    expect(status["key-id"]).toBe("app-key-1");
    // mc: "Encryption ✔" and "Decryption ✔" when both errors are empty.
    expect(status["encryption-error"] ?? "").toBe("");
    expect(status["decryption-error"] ?? "").toBe("");
  });

  it('`mc admin kms key status ALIAS` (no key: key-id="") reports the default key', async () => {
    const status = decoded(await mc(gw.url, "GET", `${kms}/key/status?key-id=`)) as Record<
      string,
      unknown
    >;
    expect(status["key-id"]).toBe("mc-default");
  });

  it("KMSStatus (GET /status) decodes name, default-key-id, endpoints and state", async () => {
    const status = decoded(await mc(gw.url, "GET", `${kms}/status`)) as Record<string, unknown>;
    expect(status.name).toBe("kms-gateway");
    expect(status["default-key-id"]).toBe("mc-default");
    expect(Object.values(status.endpoints as Record<string, string>)).toEqual(["online"]);
    expect(status.state).toMatchObject({ KeyStoreReachable: true, KeystoreAvailable: true });
  });

  it("KMSVersion (GET /version) decodes version", async () => {
    const version = decoded(await mc(gw.url, "GET", `${kms}/version`)) as { version: string };
    expect(version.version).toMatch(/^kms-gateway /);
  });

  it("an API of the router the gateway does not serve (key/import, policy/…) is a 404", async () => {
    expect((await mc(gw.url, "POST", `${kms}/key/import?key-id=x`)).status).toBe(404);
    expect((await mc(gw.url, "GET", `${kms}/policy/list?pattern=*`)).status).toBe(404);
  });

  it("the router still needs a signature", async () => {
    const unsigned = await fetch(`${gw.url}${kms}/key/list?pattern=*`);
    expect(unsigned.status).toBe(401);
  });
});
