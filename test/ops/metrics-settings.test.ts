import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { resolveMetricsServing } from "../../src/server/metrics-settings.js";

const dir = mkdtempSync(join(tmpdir(), "kms-metrics-settings-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const address = { host: "127.0.0.1", port: 9464 };
const token = "a-long-enough-token-1234";

describe("where /metrics is served", () => {
  it("nowhere without a token or an address: never unauthenticated on the main port", async () => {
    expect(
      await resolveMetricsServing({ metricsAddress: null, metricsTokenFile: null }, {}),
    ).toBeUndefined();
  });

  it("on the main port with a token from the environment or a file (trailing newline dropped)", async () => {
    expect(
      await resolveMetricsServing(
        { metricsAddress: null, metricsTokenFile: null },
        { KMS_GATEWAY_METRICS_TOKEN: token },
      ),
    ).toEqual({ token, ownListener: false });
    const file = join(dir, "token");
    writeFileSync(file, `${token}\n`, { mode: 0o600 });
    expect(
      await resolveMetricsServing({ metricsAddress: null, metricsTokenFile: file }, {}),
    ).toEqual({ token, ownListener: false });
  });

  it("on its own address, with or without a token", async () => {
    expect(
      await resolveMetricsServing({ metricsAddress: address, metricsTokenFile: null }, {}),
    ).toEqual({ token: null, ownListener: true });
  });

  it("refuses a short, spaced or unreadable token without echoing it", async () => {
    const short = "short-secret";
    await expect(
      resolveMetricsServing(
        { metricsAddress: null, metricsTokenFile: null },
        { KMS_GATEWAY_METRICS_TOKEN: short },
      ),
    ).rejects.toThrow(/at least 16 characters/);
    const spaced = "has a space inside it";
    const error = await resolveMetricsServing(
      { metricsAddress: null, metricsTokenFile: null },
      { KMS_GATEWAY_METRICS_TOKEN: spaced },
    ).catch((e: Error) => e);
    expect(String(error)).toMatch(/printable ASCII/);
    expect(String(error)).not.toContain(spaced);
    await expect(
      resolveMetricsServing({ metricsAddress: null, metricsTokenFile: join(dir, "missing") }, {}),
    ).rejects.toThrow(/cannot be read \(ENOENT\)/);
  });
});
