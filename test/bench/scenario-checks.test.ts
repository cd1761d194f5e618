import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type ScenarioDef, type ServerName, scenarios } from "../../bench/scenarios.js";
import { seedKeys } from "../../bench/seed-keys.js";
import { sendHttp1, sendHttp2 } from "../../bench/send-once.js";
import { type ServerProcess, startServerProcess } from "../../bench/server-process.js";
import { gatewayArgs, gatewayEnv } from "../helpers/gateway-process.js";
import { testCredentials } from "../helpers/signed-fetch.js";

// Every scenario's signed request, sent once to the real server it targets,
// must get an answer its check accepts: otherwise `npm run bench` would
// report the scenario as failed. No load generator is needed for this.
const root = new URL("../..", import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), "kgw-bench-test-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const scripts: Partial<Record<ServerName, string[]>> = {
  "bare-http": ["bench/baselines/bare-http-server.ts"],
  "bare-http-work": ["bench/baselines/bare-http-server.ts", "--work-us", "100"],
  "bare-http2": ["bench/baselines/bare-http2-server.ts"],
  "grpc-js": ["bench/baselines/grpc-js-noop-server.ts"],
  "connect-noop": ["bench/baselines/connect-noop-server.ts"],
};

async function start(name: ServerName, dataDir?: string): Promise<ServerProcess> {
  const script = scripts[name];
  return startServerProcess({
    name,
    nodeArgs:
      script === undefined
        ? ["--import", "tsx", "src/cli.ts", ...gatewayArgs(dataDir as string)]
        : ["--import", "tsx", ...script],
    cwd: root,
    env: gatewayEnv(),
    // Unpinned: the checks need right answers, not figures (and npm test needs no taskset).
    logFile: join(work, `${name}.log`),
    startTimeoutMs: 30_000,
  });
}

async function checkAll(
  server: ServerProcess,
  defs: ScenarioDef[],
  keyCount: number,
): Promise<void> {
  for (const def of defs) {
    const prepared = await def.prepare({
      url: server.url,
      announced: server.announced,
      keyId: "bench-000000",
      keyCount,
      credentials: testCredentials,
    });
    const send = def.tool === "h2load" ? sendHttp2 : sendHttp1;
    expect(prepared.check(await send(prepared.baseUrl, prepared.request)), def.name).toBeNull();
  }
}

describe("scenario checks against real servers", () => {
  it("every gateway scenario's request gets a right answer (seeded keys, list pages)", async () => {
    const seeded = await seedKeys(join(work, "data"), 120);
    expect(seeded.keyId).toBe("bench-000000");
    const server = await start("gateway", seeded.dataDir);
    try {
      expect(server.startupMs).toBeGreaterThan(0);
      await checkAll(
        server,
        scenarios.filter((s) => s.server === "gateway" || s.server === "gateway-large"),
        120,
      );
      // The check is not a rubber stamp: the same request signed for another secret is refused.
      const [generate] = scenarios.filter((s) => s.name === "REST generate-data-key");
      const forged = await (generate as ScenarioDef).prepare({
        url: server.url,
        announced: server.announced,
        keyId: "bench-000000",
        keyCount: 120,
        credentials: { ...testCredentials, secretAccessKey: "wrong-secret-0123456789" },
      });
      expect(forged.check(await sendHttp1(forged.baseUrl, forged.request))).toMatch(/HTTP 401/);
    } finally {
      await server.stop();
    }
  }, 120_000);

  for (const name of [
    "bare-http",
    "bare-http-work",
    "bare-http2",
    "grpc-js",
    "connect-noop",
  ] as const) {
    it(`the ${name} baseline answers its scenarios' requests with the gateway's shapes`, async () => {
      const server = await start(name);
      try {
        const defs = scenarios.filter((s) => s.server === name);
        expect(defs.length).toBeGreaterThan(0);
        await checkAll(server, defs, 0);
      } finally {
        await server.stop();
      }
    }, 60_000);
  }
});
