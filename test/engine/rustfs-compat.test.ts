import { describe, expect, it } from "vitest";
import { createFixture, expectKmsError, KEY_DIR, MASTER_KEY } from "./engine-fixture.js";

// The engine's share of issue 10: what RustFS clients ask of the lifecycle.

describe("engine: RustFS-compatible lifecycle requests", () => {
  it("start with nothing configured says 'no configuration provided'", async () => {
    const { engine } = await createFixture({ configure: null });
    await expectKmsError(engine.start(), "NOT_CONFIGURED", /no configuration provided/);
  });

  it("start {force} restarts a running service; without force it is ALREADY_RUNNING", async () => {
    const { engine } = await createFixture();
    await engine.createKey({ tags: { name: "survives" } });
    await expectKmsError(engine.start(), "ALREADY_RUNNING");
    expect(await engine.start({ force: true })).toEqual({
      success: true,
      message: "KMS service restarted successfully",
      status: "Running",
    });
    expect((await engine.describeKey("survives")).keyState).toBe("Enabled");
  });

  it("configure {requireMasterKey}: a local config needs a master key source or allow_insecure_dev_defaults", async () => {
    const { engine } = await createFixture({ configure: null });
    const require = { requireMasterKey: true };
    await expectKmsError(
      engine.configure({ backendType: "Local", keyDir: KEY_DIR }, require),
      "INVALID_ARGUMENT",
      "the local backend requires a master key (or allow_insecure_dev_defaults): give master_key, master_key_file or master_key_env",
    );
    expect((await engine.status()).status).toBe("NotConfigured");
    await engine.configure(
      { backendType: "local", keyDir: KEY_DIR, allowInsecureDevDefaults: true },
      require,
    );
    await engine.start();
    // The generated development key works as npm start's first start does.
    expect((await engine.createKey({})).keyState).toBe("Enabled");
  });

  it("configure without requireMasterKey (npm start's first start) still generates a key", async () => {
    const { engine } = await createFixture({
      configure: { backendType: "local", keyDir: KEY_DIR },
    });
    expect((await engine.status()).status).toBe("Running");
  });

  it("file_permissions: owner-only modes pass and are not stored; others name the field", async () => {
    const { engine, stateStore } = await createFixture({ configure: null });
    await engine.configure({
      backendType: "local",
      keyDir: KEY_DIR,
      masterKey: MASTER_KEY,
      filePermissions: 0o600,
    });
    expect(stateStore.saves.length).toBeGreaterThan(0);
    expect(JSON.stringify(stateStore.saves)).not.toContain("filePermissions");
    for (const mode of [0o640, 0o604, 0o4600, -1, 1.5]) {
      await expectKmsError(
        engine.reconfigure({ filePermissions: mode }),
        "INVALID_ARGUMENT",
        /file_permissions/,
      );
    }
    await expectKmsError(
      engine.reconfigure({
        backendType: "vault",
        address: "http://v:8200",
        filePermissions: 0o600,
      }),
      "INVALID_ARGUMENT",
      "file_permissions does not apply to the vault backend",
    );
  });

  it("destroyKeyNow destroys at once, from any state, and the key is gone", async () => {
    const { engine } = await createFixture();
    await engine.createKey({ tags: { name: "now" } });
    await engine.disableKey("now");
    const last = await engine.destroyKeyNow("now");
    expect(last.keyState).toBe("PendingDeletion");
    await expectKmsError(engine.describeKey("now"), "KEY_NOT_FOUND");
    await expectKmsError(engine.destroyKeyNow("never"), "KEY_NOT_FOUND");
  });
});
