import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parseCliOptions } from "../src/cli-options.js";

describe("parseCliOptions", () => {
  it("defaults to 127.0.0.1:9000, ./data and the local backend", () => {
    expect(parseCliOptions([], {})).toMatchObject({
      host: "127.0.0.1",
      port: 9000,
      dataDir: resolve("data"),
      kmsBackend: "local",
      tlsCert: null,
      tlsKey: null,
    });
  });

  it("keeps CORS and immediate deletion off unless asked; --cors-origin repeats", () => {
    expect(parseCliOptions([], {})).toMatchObject({
      corsOrigins: [],
      allowImmediateDeletion: false,
    });
    expect(
      parseCliOptions(
        [
          "--cors-origin",
          "https://console.example.com",
          "--cors-origin",
          "http://localhost:9001",
          "--allow-immediate-deletion",
        ],
        {},
      ),
    ).toMatchObject({
      corsOrigins: ["https://console.example.com", "http://localhost:9001"],
      allowImmediateDeletion: true,
    });
    expect(() => parseCliOptions(["--cors-origin", "*"], {})).toThrow(/--cors-origin/);
  });

  it("reads the environment, and flags win over it", () => {
    const env = {
      KMS_GATEWAY_ADDRESS: "0.0.0.0:9100",
      KMS_GATEWAY_DATA_DIR: "/srv/kms",
      RUSTFS_KMS_BACKEND: "none",
    };
    expect(parseCliOptions([], env)).toMatchObject({
      host: "0.0.0.0",
      port: 9100,
      dataDir: "/srv/kms",
      kmsBackend: "none",
    });
    expect(
      parseCliOptions(["--address", "[::1]:0", "--kms-backend", "Vault-Transit"], env),
    ).toMatchObject({
      host: "::1",
      port: 0,
      dataDir: "/srv/kms",
      kmsBackend: "vault",
    });
  });

  it("takes the RustFS first-start variables", () => {
    const options = parseCliOptions([], {
      RUSTFS_KMS_KEY_DIR: "keys",
      RUSTFS_KMS_LOCAL_MASTER_KEY: "mk",
      RUSTFS_KMS_DEFAULT_KEY_ID: "default",
      RUSTFS_KMS_VAULT_ADDRESS: "https://vault:8200",
      RUSTFS_KMS_VAULT_TOKEN: "s.T",
    });
    expect(options).toMatchObject({
      keyDir: resolve("keys"),
      localMasterKey: "mk",
      defaultKeyId: "default",
      vaultAddress: "https://vault:8200",
      vaultToken: "s.T",
    });
  });

  it.each([
    [["--address", "9000"], /HOST:PORT/],
    [["--address", "host:70000"], /HOST:PORT/],
    [["--kms-backend", "aws"], /local, vault or none/],
    [["--tls-cert", "c.pem"], /together/],
    [["--unknown"], /Unknown option/],
  ])("refuses %j", (argv, message) => {
    expect(() => parseCliOptions(argv, {})).toThrow(message);
  });

  it("reads --drain-timeout-ms (default 10000) and refuses anything but whole milliseconds", () => {
    expect(parseCliOptions([], {}).drainTimeoutMs).toBe(10_000);
    expect(parseCliOptions([], { KMS_GATEWAY_DRAIN_TIMEOUT_MS: "2500" }).drainTimeoutMs).toBe(2500);
    expect(
      parseCliOptions(["--drain-timeout-ms", "0"], { KMS_GATEWAY_DRAIN_TIMEOUT_MS: "2500" })
        .drainTimeoutMs,
    ).toBe(0);
    for (const bad of ["-1", "1.5", "1e3", " 5", "0x10", "3600001", "abc"]) {
      expect(() => parseCliOptions([`--drain-timeout-ms=${bad}`], {}), bad).toThrow(
        /--drain-timeout-ms must be a whole number from 0 to 3600000/,
      );
    }
  });
});

describe("parseCliOptions: edge limits", () => {
  it("defaults to a 30 s body deadline and a 16 MiB pre-auth budget", () => {
    expect(parseCliOptions([], {})).toMatchObject({
      bodyTimeoutMs: 30_000,
      preauthBodyBudget: 16 * 1024 * 1024,
    });
  });

  it("reads the environment, and flags win", () => {
    const env = { KMS_GATEWAY_BODY_TIMEOUT_MS: "5000", KMS_GATEWAY_PREAUTH_BODY_BUDGET: "1024" };
    expect(parseCliOptions([], env)).toMatchObject({
      bodyTimeoutMs: 5000,
      preauthBodyBudget: 1024,
    });
    expect(
      parseCliOptions(["--body-timeout-ms", "250", "--preauth-body-budget", "0"], env),
    ).toMatchObject({ bodyTimeoutMs: 250, preauthBodyBudget: 0 });
  });

  it.each([
    [["--body-timeout-ms", "0"], /--body-timeout-ms/],
    [["--body-timeout-ms", "1e3"], /--body-timeout-ms/],
    [["--preauth-body-budget", "-1"], /--preauth-body-budget/],
    [["--preauth-body-budget", "0x10"], /--preauth-body-budget/],
  ])("refuses %j", (argv, message) => {
    expect(() => parseCliOptions(argv, {})).toThrow(message);
  });
});
