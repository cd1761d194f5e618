import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { useGateway } from "../helpers/gateway-process.js";
import { testCredentials } from "../helpers/signed-fetch.js";

// docs/client.md's example, run as written (only the package name points at this
// checkout's source) against a real gateway.

const root = new URL("../..", import.meta.url).pathname;
const gw = useGateway();
const dir = mkdtempSync(join(tmpdir(), "kms-docs-example-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("docs/client.md", () => {
  it("runs its example: a key, a data key, a decrypt round trip", () => {
    const doc = readFileSync(join(root, "docs/client.md"), "utf8");
    const block = /```ts\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(block).toContain('from "kms-gateway"');
    // .mts: an ES module wherever it lies, as the example (top-level await) needs.
    const file = join(dir, "example.mts");
    writeFileSync(
      file,
      (block as string).replace(
        'from "kms-gateway"',
        `from "${join(root, "src/client/index.ts")}"`,
      ),
    );
    const run = spawnSync(process.execPath, ["--import", "tsx", file], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? "",
        KMS_ENDPOINT: gw.url,
        RUSTFS_ACCESS_KEY: testCredentials.accessKeyId,
        RUSTFS_SECRET_KEY: testCredentials.secretAccessKey,
      },
      encoding: "utf8",
      timeout: 25_000,
    });
    expect(run.stderr).toBe("");
    expect(run.stdout.trim()).toBe("round trip ok");
    expect(run.status).toBe(0);
  });
});
