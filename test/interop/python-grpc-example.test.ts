import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { useGateway } from "../helpers/gateway-process.js";
import { testCredentials } from "../helpers/signed-fetch.js";
import { debianPython } from "./require-tools.js";

// docs/client.md's Python example, run as written: grpcio with the SigV4 metadata plugin,
// messages from `buf build`'s descriptors, against a real gateway.

const run = promisify(execFile);
const root = new URL("../../", import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), "kms-python-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** pythonBlock is the code block after the python-example marker in docs/client.md. */
function pythonBlock(): string {
  const doc = readFileSync(join(root, "docs/client.md"), "utf8");
  const block = /<!-- python-example:[^>]*-->\n```python\n([\s\S]*?)```/.exec(doc)?.[1];
  if (block === undefined) throw new Error("no python-example block in docs/client.md");
  return block;
}

describe("docs/client.md's Python example", () => {
  const gw = useGateway();

  it("creates a key, then generates and decrypts a data key over gRPC", {
    timeout: 120_000,
  }, async () => {
    writeFileSync(join(work, "kms_example.py"), pythonBlock());
    await run(join(root, "node_modules/.bin/buf"), ["build", "-o", join(work, "kms.binpb")], {
      cwd: root,
    });
    const env = {
      PATH: process.env.PATH ?? "",
      KMS_TARGET: `127.0.0.1:${gw.port}`,
      RUSTFS_ACCESS_KEY: testCredentials.accessKeyId,
      RUSTFS_SECRET_KEY: testCredentials.secretAccessKey,
    };
    // The first run creates the key (DescribeKey is NOT_FOUND), the second finds it.
    for (let i = 0; i < 2; i++) {
      const { stdout } = await run(debianPython, ["kms_example.py"], { cwd: work, env });
      expect(stdout.trim()).toBe("round trip ok");
    }
    const wrong = await run(debianPython, ["kms_example.py"], {
      cwd: work,
      env: { ...env, RUSTFS_SECRET_KEY: "not-the-secret" },
    }).catch((err: { stderr: string }) => err);
    expect("stderr" in wrong ? wrong.stderr : "").toContain("StatusCode.UNAUTHENTICATED");
  });
});
