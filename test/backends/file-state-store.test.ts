import { promises as fsp } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createFileStateStore } from "../../src/backends/local/file-state-store.js";
import type { PersistedState } from "../../src/engine/backend.js";
import { expectKmsError } from "./key-backend-contract.js";

function sampleState(running: boolean): PersistedState {
  return {
    config: {
      backend: {
        backendType: "local",
        keyDir: "/var/lib/kms/keys",
        masterKey: "s3cret-master-key",
      },
      defaultKeyId: "default",
      enableCache: true,
      cacheTtlSeconds: 300,
      maxCachedKeys: 1024,
      timeoutSeconds: 30,
      retryAttempts: 3,
    },
    running,
    generatedMasterKey: null,
  };
}

describe("createFileStateStore", () => {
  let root: string;
  let path: string;
  beforeEach(async () => {
    root = await fsp.mkdtemp(join(tmpdir(), "kms-state-"));
    path = join(root, "data", "kms-state.json");
  });
  afterEach(async () => {
    await fsp.rm(root, { recursive: true, force: true });
  });

  it("loads null when nothing was saved", async () => {
    expect(await createFileStateStore(path).load()).toBeNull();
  });

  it("round-trips the state, with a 0600 file in a 0700 directory it creates", async () => {
    const store = createFileStateStore(path);
    await store.save(sampleState(true));
    expect(await store.load()).toEqual(sampleState(true));
    expect(await createFileStateStore(path).load()).toEqual(sampleState(true));
    expect((await fsp.stat(path)).mode & 0o777).toBe(0o600);
    expect((await fsp.stat(join(root, "data"))).mode & 0o777).toBe(0o700);
    expect(JSON.parse(await fsp.readFile(path, "utf8")).formatVersion).toBe(1);

    const vault: PersistedState = {
      config: {
        ...sampleState(false).config,
        backend: {
          backendType: "vault",
          address: "https://vault:8200",
          authMethod: { approle: { roleId: "r", secretId: "s", mount: "approle" } },
          namespace: null,
          mountPath: "transit",
          kvMount: "secret",
          keyPathPrefix: "rustfs/kms/keys",
          skipTlsVerify: false,
          caCertPath: null,
        },
      },
      running: false,
      generatedMasterKey: "Z2VuZXJhdGVk",
    };
    await store.save(vault);
    expect(await store.load()).toEqual(vault);
    expect((await fsp.stat(path)).mode & 0o777).toBe(0o600);
    expect(await fsp.readdir(join(root, "data"))).toEqual(["kms-state.json"]);
  });

  it("lands overlapping saves in call order", async () => {
    const store = createFileStateStore(path);
    const saves = Array.from({ length: 10 }, (_, i) =>
      store.save({ ...sampleState(i % 2 === 0), generatedMasterKey: `k${i}` }),
    );
    await Promise.all(saves);
    expect((await store.load())?.generatedMasterKey).toBe("k9");
  });

  it("rejects a corrupt file with BACKEND_ERROR naming the file, not its content", async () => {
    await fsp.mkdir(join(root, "data"));
    await fsp.writeFile(path, '{"formatVersion":1,"config":{"masterKey":"s3cret-master-key"');
    const error = await expectKmsError(createFileStateStore(path).load(), "BACKEND_ERROR");
    expect((error as Error).message).toBe(`state file ${path} is corrupt`);
    expect(String((error as Error).cause)).not.toContain("s3cret");
  });

  it("rejects a file of the wrong shape or format version with BACKEND_ERROR", async () => {
    await fsp.mkdir(join(root, "data"));
    const good = { formatVersion: 1, ...sampleState(true) };
    for (const bad of [
      [],
      { ...good, formatVersion: 2 },
      { ...good, formatVersion: undefined },
      { ...good, running: "yes" },
      { ...good, generatedMasterKey: 5 },
      { ...good, config: null },
      { ...good, config: { backend: { backendType: "s3" } } },
    ]) {
      await fsp.writeFile(path, JSON.stringify(bad));
      await expectKmsError(createFileStateStore(path).load(), "BACKEND_ERROR");
    }
  });

  it("rejects a save it cannot write with BACKEND_ERROR", async () => {
    await fsp.writeFile(join(root, "data"), "a file where the directory should be");
    await expectKmsError(createFileStateStore(path).save(sampleState(true)), "BACKEND_ERROR");
  });
});
