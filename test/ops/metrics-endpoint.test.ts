import { afterEach, describe, expect, it } from "vitest";
import { createEngine, type Engine } from "../../src/engine/engine.js";
import { countingEngineLog } from "../../src/server/engine-log-metrics.js";
import { createGatewayMetrics } from "../../src/server/gateway-metrics.js";
import { createLogger } from "../../src/server/logger.js";
import { observedBackendFactory } from "../../src/server/observed-backend.js";
import { DAY_MS, KEY_DIR, MASTER_KEY } from "../engine/engine-fixture.js";
import { useGateway } from "../helpers/gateway-process.js";
import { createMemoryBackends } from "../helpers/memory-backend.js";
import { createMemoryStateStore } from "../helpers/memory-state-store.js";
import { signedFetch, testCredentials } from "../helpers/signed-fetch.js";

// Issue 11 item 3: /metrics scraped from a real gateway after a known sequence of calls.

const TOKEN = "metrics-token-0123456789abcdef";
const KEY_ID = "metrics-private-key-id-42";
const RPC = "kms.admin.v1.KmsAdminService";

/** sample returns the value of one series in Prometheus text, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** labelValues lists every label value in the exposition. */
function labelValues(text: string): string[] {
  return [...text.matchAll(/[a-z_]+="([^"]*)"/g)].map((m) => m[1] ?? "");
}

async function scrape(url: string, token?: string) {
  const response = await fetch(`${url}/metrics`, {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
  return { status: response.status, body: await response.text(), headers: response.headers };
}

describe("/metrics on the main listener, behind a bearer token", () => {
  const gw = useGateway({ spawn: () => ({ env: { KMS_GATEWAY_METRICS_TOKEN: TOKEN } }) });

  it("refuses a scrape without the token, or with a wrong one", async () => {
    const none = await scrape(gw.url);
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(none.body).not.toContain("kms_gateway");
    expect((await scrape(gw.url, `${TOKEN}x`)).status).toBe(401);
    expect((await scrape(gw.url, TOKEN.slice(0, -1))).status).toBe(401);
  });

  it("counts a known sequence of calls, with no key id or identity in any label", async () => {
    const before = (await scrape(gw.url, TOKEN)).body;
    const created = await signedFetch(gw.url, "POST", "/rustfs/admin/v3/kms/keys", {
      body: JSON.stringify({ KeyUsage: "ENCRYPT_DECRYPT", Tags: { name: KEY_ID } }),
    });
    expect(created.status).toBe(200);
    expect(created.json).toMatchObject({ key_id: KEY_ID });
    for (let i = 0; i < 2; i++) {
      expect((await signedFetch(gw.url, "GET", `/rustfs/admin/v3/kms/keys/${KEY_ID}`)).status).toBe(
        200,
      );
    }
    expect(
      (await signedFetch(gw.url, "GET", "/rustfs/admin/v3/kms/keys/no-such-key-here")).status,
    ).toBe(404);
    const forged = await signedFetch(gw.url, "GET", "/rustfs/admin/v3/kms/status", {
      credentials: { accessKeyId: testCredentials.accessKeyId, secretAccessKey: "wrong-secret" },
    });
    expect(forged.status).toBe(401);
    const status = await signedFetch(gw.url, "GET", "/rustfs/admin/v3/kms/status");
    // The gateway exports its cache figures, so it says so.
    expect(status.json).toMatchObject({
      config_summary: { cache_summary: { enable_metrics: true } },
    });

    const { status: code, body, headers } = await scrape(gw.url, TOKEN);
    expect(code).toBe(200);
    expect(headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const moved = (series: string) => (sample(body, series) ?? 0) - (sample(before, series) ?? 0);
    const rest = (rpc: string, status: number, c: string) =>
      `kms_gateway_requests_total{protocol="rest",rpc="${RPC}/${rpc}",status="${status}",code="${c}"}`;
    expect(moved(rest("CreateKey", 200, "ok"))).toBe(1);
    expect(moved(rest("DescribeKey", 200, "ok"))).toBe(2);
    expect(moved(rest("DescribeKey", 404, "not_found"))).toBe(1);
    expect(moved(`kms_gateway_auth_failures_total{reason="signature"}`)).toBe(1);
    expect(
      moved(`kms_gateway_request_duration_seconds_count{protocol="rest",rpc="${RPC}/DescribeKey"}`),
    ).toBe(3);
    expect(sample(body, `kms_gateway_kms_status{status="Running"}`)).toBe(1);
    expect(sample(body, `kms_gateway_kms_status{status="NotConfigured"}`)).toBe(0);
    expect(sample(body, `kms_gateway_keys{state="Enabled"}`)).toBe(1);
    expect(sample(body, "kms_gateway_pending_deletions")).toBe(0);
    expect(sample(body, "kms_gateway_keys_census_complete")).toBe(1);
    expect(sample(body, "kms_gateway_cache_entries")).toBeGreaterThanOrEqual(1);
    expect(sample(body, "kms_gateway_cache_hits")).toBeGreaterThanOrEqual(1);
    // The local backend's calls are timed: create wrote the key file.
    expect(
      sample(
        body,
        `kms_gateway_backend_call_duration_seconds_count{backend="local",operation="create"}`,
      ),
    ).toBe(1);
    expect(body).toContain("process_resident_memory_bytes");
    expect(body).toContain("nodejs_eventloop_lag_seconds");
    // Nothing a client chose, and no identity, is a label value.
    const values = labelValues(body);
    for (const forbidden of [KEY_ID, "no-such-key-here", testCredentials.accessKeyId]) {
      expect(body).not.toContain(forbidden);
      expect(values).not.toContain(forbidden);
    }
  });
});

describe("/metrics on its own --metrics-address", () => {
  const gw = useGateway({ spawn: () => ({ args: ["--metrics-address", "127.0.0.1:0"] }) });

  it("serves /metrics there without a token, and not on the main port", async () => {
    const line = gw.logLines
      .map((l) => JSON.parse(l) as { message?: string; metricsUrl?: string })
      .find((entry) => entry.message === "listening");
    const metricsUrl = line?.metricsUrl;
    expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const own = await fetch(metricsUrl as string);
    expect(own.status).toBe(200);
    expect(await own.text()).toContain("kms_gateway_requests_total");
    expect((await fetch(new URL("/ready", metricsUrl as string))).status).toBe(404);
    expect((await scrape(gw.url)).status).toBe(404);
  });
});

describe("without a token or --metrics-address", () => {
  const gw = useGateway();

  it("serves no /metrics, and says the cache metrics are not exported", async () => {
    expect((await scrape(gw.url)).status).toBe(404);
    expect((await scrape(gw.url, TOKEN)).status).toBe(404);
    const status = await signedFetch(gw.url, "GET", "/rustfs/admin/v3/kms/status");
    expect(status.json).toMatchObject({
      config_summary: { cache_summary: { enable_metrics: false } },
    });
  });
});

describe("deletion sweep and backend metrics, on a real engine", () => {
  const engines: Engine[] = [];
  afterEach(async () => {
    await Promise.all(engines.splice(0).map((e) => e.close()));
  });

  it("counts the sweep's destroyed keys and the backend's failing calls", async () => {
    const metrics = createGatewayMetrics({ rpcNames: [] });
    const memory = createMemoryBackends();
    let now = new Date("2026-01-01T00:00:00Z");
    const engine = await createEngine({
      stateStore: createMemoryStateStore(),
      backends: { local: observedBackendFactory("local", memory.factory, metrics.backend) },
      defaultKeyDir: KEY_DIR,
      now: () => now,
      sweepIntervalMs: 3_600_000,
      log: countingEngineLog(
        createLogger(() => {}),
        (o) => metrics.recordSweep(o),
      ),
    });
    engines.push(engine);
    await engine.configure({ backendType: "local", keyDir: KEY_DIR, masterKey: MASTER_KEY });
    await engine.start();
    await engine.createKey({ tags: { name: "doomed-one" } });
    await engine.createKey({ tags: { name: "doomed-two" } });
    await engine.scheduleKeyDeletion("doomed-one", 7);
    await engine.scheduleKeyDeletion("doomed-two", 7);
    now = new Date(now.getTime() + 8 * DAY_MS);
    expect(await engine.runDeletionSweep()).toBe(2);
    await expect(engine.describeKey("doomed-one")).rejects.toThrow();
    const body = (await metrics.render()).body;
    expect(sample(body, `kms_gateway_deletion_sweep_total{outcome="destroyed"}`)).toBe(2);
    expect(sample(body, `kms_gateway_deletion_sweep_total{outcome="key_failed"}`)).toBe(0);
    expect(
      sample(
        body,
        `kms_gateway_backend_call_duration_seconds_count{backend="local",operation="destroy"}`,
      ),
    ).toBe(2);
    expect(body).not.toContain("doomed");
  });

  it("bounds backend and operation names, and reports retries and circuit state", async () => {
    const metrics = createGatewayMetrics({ rpcNames: [] });
    metrics.backend.retry("vault", "transit_encrypt");
    metrics.backend.circuitState("vault", "open");
    metrics.backend.observeCall("vault", "Key/With/Id", 0.01, true);
    for (let i = 0; i < 40; i++) metrics.backend.observeCall("vault", `op_${i}`, 0.001, false);
    const body = (await metrics.render()).body;
    expect(
      sample(
        body,
        `kms_gateway_backend_retries_total{backend="vault",operation="transit_encrypt"}`,
      ),
    ).toBe(1);
    expect(sample(body, `kms_gateway_backend_circuit_state{backend="vault"}`)).toBe(2);
    expect(
      sample(body, `kms_gateway_backend_errors_total{backend="vault",operation="other"}`),
    ).toBe(1);
    expect(body).not.toContain("Key/With/Id");
    expect(body).not.toContain("op_39");
  });
});
