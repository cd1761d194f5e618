import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GatewayProcess, startGateway } from "../helpers/gateway-process.js";
import { signedFetch } from "../helpers/signed-fetch.js";

// Issue 5 item 10 over REST: answers that say what the caller can do.

const api = "/rustfs/admin/v3/kms";

describe("messages that say what to do", () => {
  let gw: GatewayProcess;
  const call = (method: string, path: string, body?: unknown) =>
    signedFetch(gw.url, method, `${api}${path}`, {
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  beforeAll(async () => {
    gw = await startGateway({
      env: { RUSTFS_KMS_LOCAL_MASTER_KEY: "messages-test-master-key-0123456789" },
    });
  });
  afterAll(async () => {
    await gw.stop();
  });

  it("configure while running is a 409 that points to reconfigure", async () => {
    const answer = await call("POST", "/configure", { backend_type: "local" });
    expect(answer.status).toBe(409);
    expect(answer.json).toEqual({
      code: "Conflict",
      message:
        "KMS already running: use reconfigure to change the running configuration (or stop first)",
    });
  });

  it("reconfigure with a master key that does not open the keys is a 409; the old key serves on", async () => {
    await call("POST", "/keys", { KeyUsage: "ENCRYPT_DECRYPT", Tags: { name: "kept" } });
    const answer = await call("POST", "/reconfigure", { master_key: "some-other-master-key" });
    expect(answer.status).toBe(409);
    expect(answer.json).toMatchObject({ code: "Conflict" });
    expect((answer.json as { message: string }).message).toMatch(
      /^the master key does not open the keys in key_dir/,
    );
    expect((await call("POST", "/generate-data-key", { key_id: "kept" })).status).toBe(200);
  });

  it("every page of a listing satisfies truncated ⇒ next_marker, limit=0 included", async () => {
    for (const name of ["l1", "l2", "l3"]) {
      await call("POST", "/keys", { KeyUsage: "ENCRYPT_DECRYPT", Tags: { name } });
    }
    const empty = await signedFetch(gw.url, "GET", `${api}/keys`, { query: { limit: "0" } });
    expect(empty.json).toMatchObject({ keys: [], truncated: false, next_marker: null });
    let marker: string | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const query: Record<string, string> = { limit: "1" };
      if (marker !== null) query.marker = marker;
      const page = (await signedFetch(gw.url, "GET", `${api}/keys`, { query })).json as {
        truncated: boolean;
        next_marker: string | null;
      };
      if (page.truncated) expect(page.next_marker).toEqual(expect.any(String));
      if (!page.truncated) return;
      marker = page.next_marker;
    }
    throw new Error("the listing never ended");
  });
});
