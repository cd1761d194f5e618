import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { gatewayEnv, useGateway } from "../helpers/gateway-process.js";
import { debianPython } from "./require-tools.js";

// botocore's SigV4Auth, an independent signer in another language, run with
// Debian's Python (python3-botocore). The npm signers are in
// test/e2e/independent-clients.test.ts.

const run = promisify(execFile);
const root = new URL("../..", import.meta.url).pathname;
const gw = useGateway();

describe("botocore's signer", () => {
  it("is accepted for a POST with a body and a GET", async () => {
    const script = `${root}test/interop/fixtures/botocore-client.py`;
    const post = await run(
      debianPython,
      [script, "POST", `${gw.url}/rustfs/admin/v3/kms/keys`, '{"Tags":{"name":"botocore-key"}}'],
      { env: gatewayEnv() },
    );
    expect(post.stdout.split("\n")[0]).toBe("200");
    const get = await run(
      debianPython,
      [script, "GET", `${gw.url}/rustfs/admin/v3/kms/keys/botocore-key`],
      { env: gatewayEnv() },
    );
    expect(get.stdout.split("\n")[0]).toBe("200");
    expect(JSON.parse(get.stdout.split("\n")[1] ?? "")).toMatchObject({
      key_metadata: { key_id: "botocore-key" },
    });
  });
});
