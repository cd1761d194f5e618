import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { gatewayEnv, waitForListening } from "../helpers/gateway-process.js";
import { signedFetch } from "../helpers/signed-fetch.js";

// Issue 11 item 7: the tarball `npm pack` makes installs with `npm install -g` into an
// empty prefix (from the registry, without dev dependencies), and its `kms-gateway serve`
// starts and answers a signed request. It needs the npm registry, hence test:interop.

const root = new URL("../../", import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), "kms-pack-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function npm(args: string[], cwd: string) {
  const run = spawnSync("npm", [...args, "--no-audit", "--no-fund"], {
    cwd,
    encoding: "utf8",
    timeout: 240_000,
    // The caller's environment (CA bundles, proxies) minus what `npm run` adds for itself.
    env: Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith("npm_")),
    ),
  });
  expect(run.status, `npm ${args.join(" ")}:\n${run.stdout}\n${run.stderr}`).toBe(0);
  return run.stdout;
}

describe("the packed tarball", () => {
  it("installs globally without dev dependencies and serves", { timeout: 300_000 }, async () => {
    npm(["pack", "--pack-destination", work], root);
    const tarball = readdirSync(work).find((name) => name.endsWith(".tgz"));
    expect(tarball).toMatch(/^kms-gateway-\d+\.\d+\.\d+\.tgz$/);
    const prefix = join(work, "prefix");
    npm(["install", "-g", "--prefix", prefix, join(work, tarball as string)], work);

    const installed = join(prefix, "lib", "node_modules", "kms-gateway");
    // Lean: the build and the docs, no sources, tests or dev tools.
    expect(existsSync(join(installed, "dist", "src", "cli.js"))).toBe(true);
    expect(existsSync(join(installed, "openapi", "kms-admin.json"))).toBe(true);
    for (const absent of ["src", "test", "bench", "tools", "proto"]) {
      expect(existsSync(join(installed, absent)), absent).toBe(false);
    }
    for (const devOnly of ["vitest", "tsx", "typescript", "@bufbuild/buf", "@biomejs/biome"]) {
      expect(existsSync(join(installed, "node_modules", devOnly)), devOnly).toBe(false);
    }

    const dataDir = join(work, "data");
    const child = spawn(
      join(prefix, "bin", "kms-gateway"),
      ["serve", "--address", "127.0.0.1:0", "--data-dir", dataDir],
      { env: gatewayEnv(), stdio: ["ignore", "pipe", "pipe"] },
    );
    try {
      const url = await waitForListening(child, [], {
        what: "the installed kms-gateway",
        timeoutMs: 30_000,
      });
      const status = await signedFetch(url, "GET", "/rustfs/admin/v3/kms/status");
      expect(status.status).toBe(200);
      expect(status.json).toMatchObject({ status: "Running" });
      expect((await fetch(`${url}/openapi.json`)).status).toBe(200);
    } finally {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
  });
});
