import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { useGateway } from "../helpers/gateway-process.js";
import { testCredentials } from "../helpers/signed-fetch.js";

// The README's `curl --aws-sigv4` walk, run exactly as written (only the base
// URL and the credentials come from the environment, as the README allows)
// with the real curl against a real gateway.

const run = promisify(execFile);
const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
const walk = /<!-- readme-walk[^>]*-->\n```sh\n([\s\S]*?)```/.exec(readme)?.[1];

const gw = useGateway();

describe("the README's curl --aws-sigv4 walk", () => {
  it("is in the README", () => {
    expect(walk).toContain("curl -sS --aws-sigv4");
  });

  it("works against the default local backend", async () => {
    const { stdout } = await run("bash", ["-euo", "pipefail", "-c", walk ?? ""], {
      env: {
        PATH: process.env.PATH ?? "",
        KMS_URL: gw.url,
        RUSTFS_ACCESS_KEY: testCredentials.accessKeyId,
        RUSTFS_SECRET_KEY: testCredentials.secretAccessKey,
      },
    });
    const answers = stdout
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(answers).toHaveLength(7);
    const [created, listed, described, dataKey, deleted, cancelled, status] = answers;
    expect(created).toMatchObject({
      key_id: "demo-key",
      key_metadata: { description: "demo key", tags: { env: "dev", name: "demo-key" } },
    });
    expect(listed).toMatchObject({
      keys: [{ key_id: "demo-key", description: "demo key" }],
      truncated: false,
      next_marker: null,
    });
    expect(described).toMatchObject({
      key_metadata: { key_id: "demo-key", deletion_date: null, enabled: true },
    });
    expect(dataKey).toMatchObject({ key_id: "demo-key" });
    expect(Buffer.from(String(dataKey?.plaintext_key), "base64")).toHaveLength(32);
    expect(deleted).toMatchObject({
      key_metadata: { key_state: "PendingDeletion", enabled: false },
    });
    expect(cancelled).toMatchObject({
      key_metadata: { key_state: "Enabled", deletion_date: null },
    });
    expect(status).toMatchObject({ status: "Running", healthy: true, backend_type: "local" });
  });

  it("signs a sorted multi-parameter query the way curl does", async () => {
    const { stdout } = await run(
      "curl",
      [
        "-sS",
        "--aws-sigv4",
        "aws:amz:us-east-1:s3",
        "--user",
        `${testCredentials.accessKeyId}:${testCredentials.secretAccessKey}`,
        `${gw.url}/rustfs/admin/v3/kms/keys?limit=1&marker=a`,
      ],
      { env: { PATH: process.env.PATH ?? "" } },
    );
    expect(JSON.parse(stdout)).toMatchObject({ truncated: false, next_marker: null });
  });
});
