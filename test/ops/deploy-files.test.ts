import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createGatewayMetrics } from "../../src/server/gateway-metrics.js";

// The example alert rules and the dashboard must name metrics the gateway exports:
// a renamed metric fails here, not silently on an operator's wall.

const root = new URL("../../", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), "utf8");

/** exported lists every series name the gateway's registry writes. */
async function exported(): Promise<Set<string>> {
  const metrics = createGatewayMetrics({ rpcNames: ["a.B/C"] });
  // One observation of each kind, so histograms and labelled series are written out.
  metrics.recordRequest({
    reqId: "r",
    remote: null,
    protocol: "rest",
    rpc: "a.B/C",
    method: "GET",
    path: "/",
    status: 401,
    code: "unauthenticated",
    ms: 1,
    caller: null,
    authError: "signature does not match",
  });
  metrics.backend.observeCall("local", "get", 0.001, true);
  metrics.backend.retry("vault", "get");
  metrics.backend.circuitState("vault", "closed");
  const body = (await metrics.render()).body;
  return new Set(
    body
      .split("\n")
      .filter((line) => line !== "" && !line.startsWith("#"))
      .map((line) => line.replace(/[{ ].*$/, "")),
  );
}

/** referenced lists the metric names an expression text uses. */
function referenced(text: string): string[] {
  return [...new Set(text.match(/\b(?:kms_gateway|process|nodejs)_[a-z0-9_]+/g) ?? [])];
}

describe("deploy/ examples", () => {
  it("the alert rules name only exported metrics", async () => {
    const names = await exported();
    const used = referenced(read("deploy/prometheus-alerts.yml"));
    expect(used.length).toBeGreaterThan(6);
    expect(used.filter((name) => !names.has(name))).toEqual([]);
  });

  it("the Grafana dashboard is JSON whose queries name only exported metrics", async () => {
    const names = await exported();
    const dashboard = JSON.parse(read("deploy/grafana-dashboard.json")) as {
      panels: { targets: { expr: string }[] }[];
    };
    const exprs = dashboard.panels.flatMap((panel) => panel.targets.map((t) => t.expr));
    const used = referenced(exprs.join("\n"));
    expect(used.length).toBeGreaterThan(10);
    expect(used.filter((name) => !names.has(name))).toEqual([]);
  });
});
