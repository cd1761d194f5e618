import { describe, expect, it } from "vitest";
import type { AccessEntry } from "../../src/server/access-log.js";
import { createGatewayMetrics } from "../../src/server/gateway-metrics.js";

const rpc = "kms.admin.v1.KmsAdminService/DescribeKey";
const entry = (over: Partial<AccessEntry>): AccessEntry => ({
  reqId: "r1",
  remote: "127.0.0.1",
  protocol: "rest",
  rpc,
  method: "GET",
  path: "/rustfs/admin/v3/kms/keys/secret-project-key",
  status: 200,
  code: "ok",
  ms: 3,
  caller: "objectstore-identity",
  ...over,
});

/** sample returns the value of one series in Prometheus text, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("gateway metrics", () => {
  it("counts requests by protocol, RPC, status and code, with latency, and auth failures by reason", async () => {
    const metrics = createGatewayMetrics({
      rpcNames: [rpc],
    });
    metrics.recordRequest(entry({}));
    metrics.recordRequest(entry({}));
    metrics.recordRequest(entry({ protocol: "grpc", status: 200, code: "not_found" }));
    metrics.recordRequest(
      entry({
        rpc: null,
        status: 401,
        code: "unauthenticated",
        authError: "signature does not match",
        caller: null,
      }),
    );
    metrics.recordRequest(
      entry({
        rpc: "evil.Service/x",
        status: 404,
        code: "made_up",
        authError: "reason with key-abc",
      }),
    );
    const { body, contentType } = await metrics.render();
    expect(contentType).toMatch(/^text\/plain/);
    expect(
      sample(
        body,
        `kms_gateway_requests_total{protocol="rest",rpc="${rpc}",status="200",code="ok"}`,
      ),
    ).toBe(2);
    expect(
      sample(
        body,
        `kms_gateway_requests_total{protocol="grpc",rpc="${rpc}",status="200",code="not_found"}`,
      ),
    ).toBe(1);
    expect(
      sample(
        body,
        `kms_gateway_requests_total{protocol="rest",rpc="none",status="401",code="unauthenticated"}`,
      ),
    ).toBe(1);
    expect(
      sample(
        body,
        `kms_gateway_requests_total{protocol="rest",rpc="other",status="404",code="unknown"}`,
      ),
    ).toBe(1);
    expect(
      sample(body, `kms_gateway_request_duration_seconds_count{protocol="rest",rpc="${rpc}"}`),
    ).toBe(2);
    expect(
      sample(
        body,
        `kms_gateway_request_duration_seconds_bucket{le="0.005",protocol="rest",rpc="${rpc}"}`,
      ),
    ).toBe(2);
    expect(sample(body, `kms_gateway_auth_failures_total{reason="signature"}`)).toBe(1);
    expect(sample(body, `kms_gateway_auth_failures_total{reason="other"}`)).toBe(1);
    // Labels come from closed sets: nothing a client chose reaches the text.
    for (const chosen of [
      "secret-project-key",
      "objectstore-identity",
      "evil.Service",
      "made_up",
      "key-abc",
      "127.0.0.1",
    ]) {
      expect(body).not.toContain(chosen);
    }
    expect(body).toContain("process_cpu_user_seconds_total");
  });

  it("reports the cache's figures when scraped, and none while nothing runs", async () => {
    let stats: { hits: number; misses: number; evictions: number; entries: number } | null = {
      hits: 7,
      misses: 3,
      evictions: 1,
      entries: 2,
    };
    const metrics = createGatewayMetrics({
      rpcNames: [],
      cacheStats: async () => stats,
    });
    const running = (await metrics.render()).body;
    expect(sample(running, "kms_gateway_cache_hits")).toBe(7);
    expect(sample(running, "kms_gateway_cache_misses")).toBe(3);
    expect(sample(running, "kms_gateway_cache_evictions")).toBe(1);
    expect(sample(running, "kms_gateway_cache_entries")).toBe(2);
    stats = null;
    expect(sample((await metrics.render()).body, "kms_gateway_cache_hits")).toBe(0);
  });
});
