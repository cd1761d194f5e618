import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { newDataDir, startGateway } from "../helpers/gateway-process.js";
import { signedFetch } from "../helpers/signed-fetch.js";

// The lifecycle of contract §5 over REST, and the process restarted (a clean
// SIGTERM, then a SIGKILL crash) on the same data directory.

const api = "/rustfs/admin/v3/kms";
const masterKey = "lifecycle-test-master-key-0123456789abcdef";

function mode(path: string): string {
  return (statSync(path).mode & 0o777).toString(8);
}

describe("lifecycle and restart", () => {
  it("walks NotConfigured → configure → start → stop → start, merges reconfigure, and survives restarts", async () => {
    const dataDir = newDataDir();
    let gw = await startGateway({ dataDir, args: ["--kms-backend", "none"] });
    const call = (method: string, path: string, body?: string) =>
      signedFetch(gw.url, method, `${api}${path}`, { body });
    const status = async () => (await call("GET", "/status")).json as Record<string, unknown>;
    try {
      expect((await status()).status).toBe("NotConfigured");
      expect((await call("POST", "/start")).status).toBe(409);
      expect((await call("POST", "/reconfigure", '{"cache_ttl_seconds":5}')).status).toBe(409);
      expect((await call("GET", "/keys")).status).toBe(503);

      const configure = await call(
        "POST",
        "/configure",
        JSON.stringify({
          backend_type: "local",
          master_key: masterKey,
          cache_ttl_seconds: 100,
          default_key_id: "app-default",
        }),
      );
      expect(configure.json).toEqual({
        success: true,
        message: "KMS configured successfully",
        status: "Configured",
      });
      expect((await status()).status).toBe("Configured");
      expect((await call("POST", "/start")).json).toMatchObject({ status: "Running" });
      expect((await call("POST", "/stop")).json).toMatchObject({ status: "Configured" });
      expect((await call("POST", "/stop")).json).toMatchObject({ status: "Configured" });
      expect((await call("POST", "/start")).json).toMatchObject({ status: "Running" });

      const before = await status();
      const reconf = await call("POST", "/reconfigure", '{"cache_ttl_seconds":900}');
      expect(reconf.json).toMatchObject({ success: true });
      const after = await status();
      const summary = (s: Record<string, unknown>) =>
        s.config_summary as Record<string, Record<string, unknown>>;
      expect(summary(after).cache_summary?.ttl_seconds).toBe(900);
      expect({ ...after, config_summary: { ...summary(after), cache_summary: null } }).toEqual({
        ...before,
        config_summary: { ...summary(before), cache_summary: null },
      });
      expect(after.status).toBe("Running");

      await call("POST", "/keys", '{"Tags":{"name":"app-default"}}');
      for (let i = 0; i < 5; i++) {
        expect((await call("POST", "/keys", `{"Description":"key ${i}"}`)).status).toBe(200);
      }
      const dataKeys: { blob: string; plaintext: string; context: Record<string, string> }[] = [];
      for (let i = 0; i < 3; i++) {
        const context = { bucket: "b", object: `o${i}` };
        // No key_id: the default key is used.
        const res = await call(
          "POST",
          "/generate-data-key",
          JSON.stringify({ encryption_context: context }),
        );
        expect(res.status).toBe(200);
        const body = res.json as { key_id: string; plaintext_key: string; ciphertext_blob: string };
        expect(body.key_id).toBe("app-default");
        dataKeys.push({ blob: body.ciphertext_blob, plaintext: body.plaintext_key, context });
      }
      let keysBefore = (await call("GET", "/keys")).json;

      // A clean stop: exit code 0.
      expect(await gw.stop("SIGTERM")).toBe(0);
      const logs = gw.logLines.join("\n");
      expect(logs).not.toContain(masterKey);
      for (const dk of dataKeys) expect(logs).not.toContain(dk.plaintext);

      // Files on disk: state file and key files 0600, key directory 0700.
      expect(mode(join(dataDir, "kms-state.json"))).toBe("600");
      expect(mode(join(dataDir, "keys"))).toBe("700");
      const keyFiles = readdirSync(join(dataDir, "keys"));
      expect(keyFiles.length).toBeGreaterThanOrEqual(6);
      for (const file of keyFiles) {
        expect(mode(join(dataDir, "keys", file))).toBe("600");
        expect(readFileSync(join(dataDir, "keys", file), "utf8")).not.toContain(masterKey);
      }

      for (const signal of ["SIGTERM", "SIGKILL"] as const) {
        gw = await startGateway({ dataDir });
        expect(await status()).toEqual(after);
        expect((await call("GET", "/keys")).json).toEqual(keysBefore);
        for (const dk of dataKeys) {
          const res = await call(
            "POST",
            "/decrypt",
            JSON.stringify({ ciphertext_blob: dk.blob, encryption_context: dk.context }),
          );
          expect(res.json).toEqual({ key_id: "app-default", plaintext_key: dk.plaintext });
        }
        // A key created just before a crash is there after it.
        const lastKey = await call("POST", "/keys", `{"Tags":{"name":"before-${signal}"}}`);
        expect(lastKey.status).toBe(200);
        keysBefore = (await call("GET", "/keys")).json;
        await gw.stop(signal);
        gw = await startGateway({ dataDir });
        expect((await call("GET", "/keys")).json).toEqual(keysBefore);
        await gw.stop();
      }

      // A stopped service stays stopped across a restart.
      gw = await startGateway({ dataDir });
      await call("POST", "/stop");
      await gw.stop();
      gw = await startGateway({ dataDir });
      expect((await status()).status).toBe("Configured");
    } finally {
      await gw.stop();
    }
  }, 120_000); // five process starts (tsx boot each): about 10 s idle, far more on a loaded runner
});
