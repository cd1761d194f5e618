import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  clientCommand,
  firstCommand,
  ignoredSettings,
  startupBanner,
} from "../../src/server/startup-banner.js";
import { gatewayEnv, newDataDir, startGateway } from "../helpers/gateway-process.js";

// Issue 11 item 5: the start-up banner says where the gateway listens, which backend is
// active and whether it runs, where data and keys live, which settings a stored
// configuration overrode, and a first command that works as pasted.

type Ready = {
  message: string;
  url: string;
  backend: string | null;
  status: string;
  dataDir: string;
  keyDir: string | null;
  ignored: string[];
  firstCommand: string;
};

/** readyLine waits (up to 10 s) for the "ready" line, which follows "listening". */
async function readyLine(lines: string[]): Promise<Ready | undefined> {
  for (let waited = 0; waited < 10_000; waited += 50) {
    const ready = lines
      .map((l) => JSON.parse(l) as Ready)
      .find((entry) => entry.message === "ready");
    if (ready !== undefined) return ready;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return undefined;
}

describe("the start-up banner of a real gateway", () => {
  it("reports the first start, then the settings a stored configuration overrides, by name only", async () => {
    const dataDir = newDataDir();
    const running: { stop(): Promise<unknown> }[] = [];
    try {
      const first = await startGateway({ dataDir });
      running.push(first);
      const ready = await readyLine(first.logLines);
      expect(ready).toMatchObject({
        url: first.url,
        backend: "local",
        status: "Running",
        dataDir,
        keyDir: `${dataDir}/keys`,
        ignored: [],
      });
      // The first command works as pasted, with the credentials the server runs on.
      expect(ready?.firstCommand).toBe(
        `KMS_ENDPOINT=${first.url} npm run -s kms -- key create --name demo-key`,
      );
      const pasted = spawnSync("sh", ["-c", ready?.firstCommand ?? "false"], {
        cwd: new URL("../../", import.meta.url).pathname,
        env: gatewayEnv(),
        encoding: "utf8",
        timeout: 60_000,
      });
      expect(pasted.stderr).toBe("");
      expect(pasted.status).toBe(0);
      expect(pasted.stdout).toContain("demo-key");
      await running.pop()?.stop();

      const secret = "a-master-key-that-must-not-be-logged";
      const second = await startGateway({
        dataDir,
        args: ["--kms-backend", "vault"],
        env: { RUSTFS_KMS_LOCAL_MASTER_KEY: secret, RUSTFS_KMS_DEFAULT_KEY_ID: "other" },
      });
      running.push(second);
      const again = await readyLine(second.logLines);
      expect(again?.status).toBe("Running");
      expect(again?.ignored).toEqual([
        "--kms-backend vault (stored: local)",
        "RUSTFS_KMS_LOCAL_MASTER_KEY",
        "RUSTFS_KMS_DEFAULT_KEY_ID",
      ]);
      expect(second.logLines.join("\n")).not.toContain(secret);
    } finally {
      // A failed expectation must not leave a gateway running.
      await Promise.all(running.map((gateway) => gateway.stop()));
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe("banner pieces", () => {
  it("names the client command from how the process was started", () => {
    expect(clientCommand("/usr/local/bin/kms-gateway")).toBe("kms-gateway");
    expect(clientCommand("/repo/src/cli.ts")).toBe("npm run -s kms --");
    expect(clientCommand("/opt/kms/dist/src/cli.js")).toBe("node /opt/kms/dist/src/cli.js");
  });

  it("puts the credentials inline only when they are the public defaults", () => {
    const url = "http://127.0.0.1:9000";
    expect(firstCommand({ client: "kms-gateway", url, defaultCredentials: true })).toBe(
      `RUSTFS_ACCESS_KEY=rustfsadmin RUSTFS_SECRET_KEY=rustfsadmin KMS_ENDPOINT=${url} kms-gateway key create --name demo-key`,
    );
    expect(firstCommand({ client: "kms-gateway", url, defaultCredentials: false })).not.toContain(
      "RUSTFS_",
    );
  });

  it("ignores nothing on a first start, and names no value", () => {
    expect(ignoredSettings({ kmsBackend: "local", localMasterKey: "x" }, null)).toEqual([]);
    expect(
      ignoredSettings({ kmsBackend: "none", vaultToken: "s.secret" }, { backend: "vault" }),
    ).toEqual(["RUSTFS_KMS_VAULT_TOKEN"]);
  });

  it("renders one aligned line per fact", () => {
    const text = startupBanner({
      url: "http://127.0.0.1:9000",
      backend: "local",
      status: "Running",
      dataDir: "/d",
      keyDir: "/d/keys",
      metrics: null,
      ignored: ["RUSTFS_KMS_KEY_DIR"],
      firstCommand: "kms-gateway status",
    });
    expect(text).toContain("  listening  http://127.0.0.1:9000");
    expect(text).toContain("  KMS        local backend, Running");
    expect(text).toContain("  key dir    /d/keys");
    expect(text).toContain("  ignored    RUSTFS_KMS_KEY_DIR: a stored configuration wins");
    expect(text).toContain("  try        kms-gateway status");
  });
});
