import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shapeMismatches } from "../helpers/expect-shape.js";
import { type GatewayProcess, startGateway } from "../helpers/gateway-process.js";
import { seedJson, seedText } from "../helpers/seed-examples.js";
import type { RestAnswer, SignedFetchOptions } from "../helpers/signed-fetch.js";

const api = "/rustfs/admin/v3/kms";
/** The seed's example key id, created by name so the seed's requests work verbatim. */
const seedKeyId = "fa5bac0e-2a2c-4f9a-a09d-2f5b8a59ed85";
/** Fields the contract (§3) adds to key_metadata beyond a given seed example. */
// key_version and rotation_date are the additive version fields of issue 7.
const metadataExtras = [
  "key_state",
  "key_spec",
  "tags",
  "deletion_date",
  "rotation_enabled",
  "key_version",
  "rotation_date",
].map((f) => `key_metadata.${f}`);

/** RestClient sends one signed REST request (signedFetch, aws4Fetch, curlFetch). */
export type RestClient = (
  baseUrl: string,
  method: string,
  path: string,
  options?: Pick<SignedFetchOptions, "body" | "query">,
) => Promise<RestAnswer>;

/**
 * describeSeedWalk sends every request example of the seed verbatim over REST,
 * signed by `client`, to a fresh gateway, and compares every response with the
 * seed's example shape. `npm test` runs it with the signers from npm, `npm run
 * test:interop` with the real curl's --aws-sigv4.
 */
export function describeSeedWalk(signer: string, client: RestClient): void {
  describe(`the seed's examples over REST, signed by ${signer}`, () => {
    let gw: GatewayProcess;
    const call = (method: string, path: string, body?: string, query?: Record<string, string>) =>
      client(gw.url, method, `${api}${path}`, { body, query });

    beforeAll(async () => {
      gw = await startGateway({ args: ["--kms-backend", "none"] });
    });
    afterAll(async () => {
      await gw?.stop();
    });

    it("reports NotConfigured with a null config_summary before configuration", async () => {
      const res = await call("GET", "/status");
      expect(res.status).toBe(200);
      expect(res.json).toEqual({
        status: "NotConfigured",
        backend_type: null,
        healthy: false,
        config_summary: null,
        // Beyond the seed: the cache's counts, null while nothing runs.
        cache_stats: null,
      });
    });

    it("accepts the seed's configure request verbatim", async () => {
      const res = await call("POST", "/configure", seedText.configureRequest);
      expect(res.status).toBe(200);
      expect(shapeMismatches(res.json, seedJson("configureResponse"))).toEqual([]);
      expect(res.json).toEqual(seedJson("configureResponse"));
    });

    it("answers GET /kms/status and its alias in the seed's shape, without the token", async () => {
      for (const path of ["/status", "/service-status"]) {
        const res = await call("GET", path);
        expect(res.status).toBe(200);
        // Not started yet: the example shows Running, the shape is the same.
        expect(shapeMismatches(res.json, seedJson("statusResponse"), ["cache_stats"])).toEqual([]);
        expect(res.json).toMatchObject({
          status: "Configured",
          backend_type: "vault",
          config_summary: {
            default_key_id: "rustfs-master",
            backend_summary: { auth_method_type: "token", namespace: null },
          },
        });
        expect(res.text).not.toContain("s.XYZ");
      }
    });

    it("answers GET /kms/config in the seed's shape", async () => {
      const res = await call("GET", "/config");
      expect(res.status).toBe(200);
      expect(res.json).toEqual({ ...(seedJson("configResponse") as object), cache_max_keys: 1024 });
      expect(shapeMismatches(res.json, seedJson("configResponse"))).toEqual([]);
    });

    it("switches to the local backend by a partial reconfigure, then starts and stops", async () => {
      const reconf = await call("POST", "/reconfigure", '{"backend_type":"local"}');
      expect(reconf.status).toBe(200);
      expect(reconf.json).toMatchObject({ success: true, status: "Configured" });

      const start = await call("POST", "/start");
      expect(start.status).toBe(200);
      expect(start.json).toEqual(seedJson("startResponse"));

      const stop = await call("POST", "/stop");
      expect(stop.status).toBe(200);
      expect(stop.json).toEqual(seedJson("stopResponse"));

      expect((await call("POST", "/start")).json).toEqual(seedJson("startResponse"));
      const status = await call("GET", "/status");
      expect(status.json).toMatchObject({
        status: "Running",
        healthy: true,
        backend_type: "local",
      });
      // The merge kept default_key_id and the cache settings of the first configure.
      expect(status.json).toMatchObject({
        config_summary: { default_key_id: "rustfs-master", cache_summary: { ttl_seconds: 600 } },
      });
    });

    it("clears the cache with 204 and an empty body", async () => {
      const res = await call("POST", "/clear-cache");
      expect(res.status).toBe(204);
      expect(res.text).toBe("");
    });

    let createdId = "";
    it("creates a key from the seed's PascalCase request", async () => {
      const res = await call("POST", "/keys", seedText.createKeyRequest);
      expect(res.status).toBe(200);
      expect(shapeMismatches(res.json, seedJson("createKeyResponse"), metadataExtras)).toEqual([]);
      const body = res.json as { key_id: string; key_metadata: Record<string, unknown> };
      expect(body.key_id).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      expect(body.key_metadata).toMatchObject({
        key_id: body.key_id,
        description: "project-alpha",
        enabled: true,
        key_usage: "ENCRYPT_DECRYPT",
        rotation_enabled: false,
        key_state: "Enabled",
        tags: { owner: "security", env: "prod" },
      });
      expect(body.key_metadata.creation_date).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
      createdId = body.key_id;
    });

    it("creates the seed's example key by name", async () => {
      const res = await call(
        "POST",
        "/keys",
        JSON.stringify({
          KeyUsage: "ENCRYPT_DECRYPT",
          Description: "project-alpha",
          Tags: { name: seedKeyId },
        }),
      );
      expect(res.status).toBe(200);
      expect((res.json as { key_id: string }).key_id).toBe(seedKeyId);
    });

    it("lists keys in the seed's shape", async () => {
      const res = await call("GET", "/keys", undefined, { limit: "50" });
      expect(res.status).toBe(200);
      expect(
        shapeMismatches(res.json, seedJson("listKeysResponse"), [
          "keys[].key_state",
          "unreadable_key_ids",
        ]),
      ).toEqual([]);
      const ids = (res.json as { keys: { key_id: string }[] }).keys.map((k) => k.key_id);
      expect(ids).toEqual([createdId, seedKeyId].sort());
    });

    it("describes a key in the seed's shape", async () => {
      const res = await call("GET", `/keys/${seedKeyId}`);
      expect(res.status).toBe(200);
      expect(shapeMismatches(res.json, seedJson("describeKeyResponse"), metadataExtras)).toEqual(
        [],
      );
    });

    it("generates a data key from the seed's request verbatim, with Cache-Control: no-store", async () => {
      const res = await call("POST", "/generate-data-key", seedText.generateDataKeyRequest);
      expect(res.status).toBe(200);
      expect(shapeMismatches(res.json, seedJson("generateDataKeyResponse"))).toEqual([]);
      expect(res.headers.get("cache-control")).toBe("no-store");
      const body = res.json as { key_id: string; plaintext_key: string; ciphertext_blob: string };
      expect(body.key_id).toBe(seedKeyId);
      expect(Buffer.from(body.plaintext_key, "base64")).toHaveLength(32);
    });

    it("schedules and cancels deletion from the seed's requests", async () => {
      const del = await call("DELETE", "/keys/delete", seedText.deleteKeyRequest);
      expect(del.status).toBe(200);
      // The seed's describe example, with the deletion date a pending key has.
      const pending = seedJson("describeKeyResponse") as { key_metadata: Record<string, unknown> };
      pending.key_metadata.deletion_date = "2024-09-25T07:10:42.012345Z";
      expect(shapeMismatches(del.json, pending, metadataExtras)).toEqual([]);
      const deleted = (del.json as { key_metadata: { key_state: string; deletion_date: string } })
        .key_metadata;
      expect(deleted.key_state).toBe("PendingDeletion");
      const days = (Date.parse(deleted.deletion_date) - Date.now()) / 86_400_000;
      expect(days).toBeGreaterThan(6.9);
      expect(days).toBeLessThan(7.1);

      const cancel = await call("POST", "/keys/cancel-deletion", seedText.cancelDeletionRequest);
      expect(cancel.status).toBe(200);
      expect(shapeMismatches(cancel.json, seedJson("describeKeyResponse"), metadataExtras)).toEqual(
        [],
      );
      expect(cancel.json).toMatchObject({
        key_metadata: { key_state: "Enabled", enabled: true, deletion_date: null },
      });
    });
  });
}
