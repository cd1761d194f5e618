import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MASTER_KEY_MISMATCH_MESSAGE, MISSING_KEYRING_MESSAGE } from "../../src/engine/keyring.js";
import { type GatewayProcess, newDataDir, startGateway } from "../helpers/gateway-process.js";
import { signedFetch } from "../helpers/signed-fetch.js";

// The master key kept apart from the data (issue 7 item 6): master_key_file and
// master_key_env are read at every start of a real gateway process, never
// written to the state file, shown only as has_master_key, and a start whose
// master key does not open key_dir (or whose key_dir lost its keyring) is
// refused with a message that says so.

const api = "/rustfs/admin/v3/kms";
const passphrase = "e2e master passphrase 7f3a9c";
const otherPassphrase = "a different passphrase 0b1d";

describe("master key from a file or the environment", () => {
  it("opens the keys at every start from master_key_file / master_key_env and refuses a wrong or orphaned key_dir", async () => {
    const dataDir = newDataDir();
    const secretDir = newDataDir();
    const keyFile = join(secretDir, "master.key");
    writeFileSync(keyFile, `${passphrase}\n`, { mode: 0o600 });
    const env = { KMS_E2E_MASTER: passphrase };
    let gw: GatewayProcess = await startGateway({ dataDir, args: ["--kms-backend", "none"], env });
    const call = (method: string, path: string, body?: unknown) =>
      signedFetch(gw.url, method, `${api}${path}`, {
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const status = async () =>
      (await call("GET", "/status")).json as {
        status: string;
        config_summary: { backend_summary: unknown };
      };
    const decrypt = async (blob: string) =>
      (await call("POST", "/decrypt", { ciphertext_blob: blob })).json;
    try {
      expect(
        (await call("POST", "/configure", { backend_type: "local", master_key_file: keyFile }))
          .status,
      ).toBe(200);
      expect((await call("POST", "/start")).status).toBe(200);
      expect((await call("POST", "/keys", { Tags: { name: "mk-1" } })).status).toBe(200);
      const generated = (await call("POST", "/generate-data-key", { key_id: "mk-1" })).json as {
        plaintext_key: string;
        ciphertext_blob: string;
      };
      expect((await status()).config_summary.backend_summary).toEqual({
        backend_type: "local",
        key_dir: join(dataDir, "keys"),
        has_master_key: true,
      });
      const config = JSON.stringify((await call("GET", "/config")).json);
      expect(config).not.toContain(keyFile);
      expect(config).not.toContain(passphrase);
      const stateFile = () => readFileSync(join(dataDir, "kms-state.json"), "utf8");
      expect(stateFile()).not.toContain(passphrase);
      expect(JSON.parse(stateFile()).generatedMasterKey).toBeNull();

      // A crash and a restart: the file is read again and every key opens.
      await gw.stop("SIGKILL");
      gw = await startGateway({ dataDir, env });
      expect((await status()).status).toBe("Running");
      expect(await decrypt(generated.ciphertext_blob)).toEqual({
        key_id: "mk-1",
        plaintext_key: generated.plaintext_key,
      });

      // The file now holds another key: the start is refused, and says why.
      writeFileSync(keyFile, otherPassphrase);
      await gw.stop();
      gw = await startGateway({ dataDir, env });
      expect((await status()).status).toBe("Error");
      const refused = await call("POST", "/start");
      expect(refused.status).toBe(409);
      expect((refused.json as { message: string }).message).toBe(MASTER_KEY_MISMATCH_MESSAGE);
      expect(refused.text).not.toContain(otherPassphrase);

      // Switched to the environment variable (same passphrase as the keys'): runs again.
      const reconfigured = await call("POST", "/reconfigure", { master_key_env: "KMS_E2E_MASTER" });
      expect(reconfigured.status).toBe(200);
      expect((await call("POST", "/start")).status).toBe(200);
      expect(await decrypt(generated.ciphertext_blob)).toMatchObject({
        plaintext_key: generated.plaintext_key,
      });
      expect(stateFile()).not.toContain(passphrase);
      expect(stateFile()).toContain('"masterKeyEnv": "KMS_E2E_MASTER"');
      expect(stateFile()).not.toContain(keyFile);

      // The variable unset in the next process: refused, naming the variable.
      await gw.stop();
      gw = await startGateway({ dataDir, env: {} });
      expect((await status()).status).toBe("Error");
      const unset = await call("POST", "/start");
      expect(unset.status).toBe(409);
      expect((unset.json as { message: string }).message).toBe(
        "master_key_env: KMS_E2E_MASTER is not set",
      );
      await gw.stop();

      // key_dir lost its keyring (salt and check value) while holding keys: refused.
      const keyDir = join(dataDir, "keys");
      expect(readdirSync(keyDir)).toContain("keyring.bin");
      rmSync(join(keyDir, "keyring.bin"));
      gw = await startGateway({ dataDir, env });
      expect((await status()).status).toBe("Error");
      const orphaned = await call("POST", "/start");
      expect(orphaned.status).toBe(409);
      expect((orphaned.json as { message: string }).message).toBe(MISSING_KEYRING_MESSAGE);
      expect(readdirSync(keyDir)).not.toContain("keyring.bin");
      const logs = gw.logLines.join("\n");
      expect(logs).not.toContain(passphrase);
    } finally {
      await gw.stop();
    }
  }, 120_000);
});
