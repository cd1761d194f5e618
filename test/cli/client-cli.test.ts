import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { runClientCli } from "../../src/cli/client-cli.js";
import { EXIT } from "../../src/cli/exit-codes.js";
import { useGateway } from "../helpers/gateway-process.js";
import { testCredentials } from "../helpers/signed-fetch.js";

// The client commands against a real gateway: output for people and for scripts,
// plaintext handling, and the exit codes that tell failures apart.

const gw = useGateway();
const dir = mkdtempSync(join(tmpdir(), "kms-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function env(): NodeJS.ProcessEnv {
  return {
    KMS_ENDPOINT: gw.url,
    RUSTFS_ACCESS_KEY: testCredentials.accessKeyId,
    RUSTFS_SECRET_KEY: testCredentials.secretAccessKey,
  };
}

/** cli runs one command in this process and returns its exit code and output. */
async function cli(...argv: string[]) {
  let stdout = "";
  let stderr = "";
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk, _enc, done) {
        append(String(chunk));
        done();
      },
    });
  const code = await runClientCli(argv, env(), {
    stdout: sink((s) => {
      stdout += s;
    }),
    stderr: sink((s) => {
      stderr += s;
    }),
  });
  return { code, stdout, stderr };
}

describe("kms-gateway client commands", () => {
  it("shows the status as fields, and as JSON with --json", async () => {
    const table = await cli("status");
    expect(table).toMatchObject({ code: EXIT.ok });
    expect(table.stdout).toMatch(/^status: Running$/m);
    const json = await cli("--json", "status");
    expect(JSON.parse(json.stdout)).toMatchObject({
      status: "Running",
      healthy: true,
      backend_type: "local",
    });
  });

  it("creates keys, refuses a duplicate (5), lists one page or --all pages", async () => {
    const created = await cli(
      "--json",
      "key",
      "create",
      "--name",
      "cli-a",
      "--description",
      "first",
      "--tag",
      "team=x",
    );
    expect(created.code).toBe(EXIT.ok);
    expect(JSON.parse(created.stdout).key_metadata).toMatchObject({
      key_id: "cli-a",
      description: "first",
      tags: { team: "x", name: "cli-a" },
    });
    const dup = await cli("key", "create", "--name", "cli-a");
    expect(dup.code).toBe(EXIT.refused);
    expect(dup.stderr).toMatch(/^kms-gateway: AlreadyExists: key "cli-a" already exists/);
    for (const n of ["cli-b", "cli-c", "cli-d"])
      expect((await cli("key", "create", "--name", n)).code).toBe(EXIT.ok);
    const page = await cli("key", "list", "--limit", "2", "--marker", "cli-");
    expect(page.stdout.split("\n")[0]).toMatch(/^KEY ID\s+STATE\s+DESCRIPTION$/);
    expect(page.stdout).toMatch(/^cli-a\s+Enabled\s+first$/m);
    expect(page.stderr).toContain("more keys follow: --marker cli-b");
    const all = await cli("--json", "key", "list", "--all", "--limit", "2", "--marker", "cli-");
    expect(JSON.parse(all.stdout).keys.map((k: { key_id: string }) => k.key_id)).toEqual([
      "cli-a",
      "cli-b",
      "cli-c",
      "cli-d",
    ]);
  });

  it("never prints a plaintext key unless asked; --out writes a new 0600 file and refuses an existing one", async () => {
    await cli("key", "create", "--name", "cli-dk");
    const quiet = await cli("--json", "datakey", "generate", "cli-dk", "--context", "bucket=b1");
    const issued = JSON.parse(quiet.stdout);
    expect(Object.keys(issued)).toEqual(["key_id", "ciphertext_blob"]);
    expect(quiet.stderr).toContain("plaintext key not shown");
    const out = join(dir, "dk.bin");
    const written = await cli(
      "--json",
      "datakey",
      "generate",
      "cli-dk",
      "--context",
      "bucket=b1",
      "--out",
      out,
    );
    expect(written.code).toBe(EXIT.ok);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const key = readFileSync(out);
    expect(key).toHaveLength(32);
    const blob = JSON.parse(written.stdout).ciphertext_blob as string;
    const shown = await cli(
      "--json",
      "decrypt",
      blob,
      "--context",
      "bucket=b1",
      "--show-plaintext",
    );
    expect(Buffer.from(JSON.parse(shown.stdout).plaintext_key, "base64").equals(key)).toBe(true);
    const again = await cli("datakey", "generate", "cli-dk", "--out", out);
    expect(again.code).toBe(EXIT.usage);
    expect(again.stderr).toContain("it exists; no key is written over it");
    expect(readFileSync(out).equals(key)).toBe(true);
    const wrongContext = await cli("decrypt", blob, "--context", "bucket=b2");
    expect(wrongContext.code).toBe(EXIT.refused);
  });

  it("disables, enables, rotates, tags, untags, describes and encrypts", async () => {
    await cli("key", "create", "--name", "cli-life");
    expect((await cli("key", "disable", "cli-life")).code).toBe(EXIT.ok);
    const refused = await cli("datakey", "generate", "cli-life");
    expect(refused.code).toBe(EXIT.refused);
    expect(refused.stderr).toMatch(/FailedPrecondition: key "cli-life" is Disabled/);
    expect((await cli("key", "enable", "cli-life")).code).toBe(EXIT.ok);
    const rotated = await cli("--json", "key", "rotate", "cli-life");
    expect(JSON.parse(rotated.stdout).key_metadata).toMatchObject({ key_version: 2 });
    const tagged = await cli(
      "--json",
      "key",
      "tag",
      "cli-life",
      "--tag",
      "env=prod",
      "--tag",
      "team=a",
    );
    expect(JSON.parse(tagged.stdout).key_metadata.tags).toMatchObject({
      env: "prod",
      team: "a",
      name: "cli-life",
    });
    const untagged = await cli("--json", "key", "untag", "cli-life", "env", "team");
    expect(JSON.parse(untagged.stdout).key_metadata.tags).toEqual({ name: "cli-life" });
    expect((await cli("key", "untag", "cli-life", "name")).code).toBe(EXIT.refused);
    const described = await cli("--json", "key", "set-description", "cli-life", "rotated once");
    expect(JSON.parse(described.stdout).key_metadata.description).toBe("rotated once");
    const encrypted = await cli(
      "--json",
      "encrypt",
      "cli-life",
      "--text",
      "a small secret",
      "--context",
      "app=cli",
    );
    const blob = JSON.parse(encrypted.stdout).ciphertext_blob as string;
    const decrypted = await cli(
      "--json",
      "decrypt",
      blob,
      "--context",
      "app=cli",
      "--show-plaintext",
    );
    expect(Buffer.from(JSON.parse(decrypted.stdout).plaintext_key, "base64").toString()).toBe(
      "a small secret",
    );
    expect((await cli("encrypt", "cli-life")).code).toBe(EXIT.usage);
  });

  it("exits 4 for a missing key, 3 for a wrong secret, 2 for a bad flag, 6 for an unreachable gateway", async () => {
    expect((await cli("key", "describe", "no-such-key")).code).toBe(EXIT.notFound);
    const wrong = await cli("--secret-key", "not-the-secret", "status");
    expect(wrong.code).toBe(EXIT.auth);
    expect(wrong.stderr).not.toContain("not-the-secret");
    expect((await cli("key", "list", "--bogus")).code).toBe(EXIT.usage);
    expect((await cli("reconfigure", "--set", "no_such_field=1")).code).toBe(EXIT.usage);
    expect((await cli("--endpoint", "http://127.0.0.1:9", "status")).code).toBe(EXIT.unavailable);
  });

  it("changes configuration fields with --set and configures from a file", async () => {
    const set = await cli("--json", "reconfigure", "--set", "cache_ttl_seconds=60");
    expect(JSON.parse(set.stdout)).toMatchObject({ success: true });
    const config = await cli("--json", "config");
    expect(JSON.stringify(JSON.parse(config.stdout))).toContain('"cache_ttl_seconds":60');
    const bad = join(dir, "bad.json");
    writeFileSync(bad, '{"backend_type": "local", "master_key": "sekrit-in-a-broken-file"');
    const refused = await cli("configure", "--file", bad);
    expect(refused).toMatchObject({ code: EXIT.usage });
    expect(refused.stderr).not.toContain("sekrit");
    // A value of the wrong type is not echoed back: it may be a key.
    const mistyped = join(dir, "mistyped.json");
    writeFileSync(mistyped, '{"backend_type": "local", "master_key": 8675309123}');
    const wrongType = await cli("configure", "--file", mistyped);
    expect(wrongType.code).toBe(EXIT.usage);
    expect(wrongType.stderr).toContain("KmsConfig.master_key");
    expect(wrongType.stderr).not.toContain("8675309123");
    const onCommandLine = await cli("reconfigure", "--set", "master_key=abcdefgh12345678");
    expect(onCommandLine.code).toBe(EXIT.usage);
    expect(onCommandLine.stderr).not.toContain("abcdefgh12345678");
  });

  it("signs a URL with headers the gateway accepts (for buf curl -H @-)", async () => {
    const url = `${gw.url}/kms.admin.v1.KmsAdminService/GetStatus`;
    const signed = await cli("sign", url);
    const headers = Object.fromEntries(
      signed.stdout
        .trim()
        .split("\n")
        .map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 2)]),
    );
    expect(Object.keys(headers).sort()).toEqual([
      "authorization",
      "x-amz-content-sha256",
      "x-amz-date",
    ]);
    const res = await fetch(url, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body: "{}",
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "Running" });
  });

  it("rekeys from a master key file on the server; earlier data keys still decrypt", async () => {
    await cli("key", "create", "--name", "cli-rekey");
    const issued = JSON.parse((await cli("--json", "datakey", "generate", "cli-rekey")).stdout);
    const keyFile = join(dir, "master.key");
    writeFileSync(keyFile, `${Buffer.alloc(32, 7).toString("base64")}\n`, { mode: 0o600 });
    expect((await cli("rekey")).code).toBe(EXIT.usage);
    const rekeyed = await cli("--json", "rekey", "--master-key-file", keyFile);
    expect(rekeyed.code).toBe(EXIT.ok);
    expect(JSON.parse(rekeyed.stdout).keys_resealed).toBeGreaterThan(0);
    expect((await cli("decrypt", issued.ciphertext_blob)).code).toBe(EXIT.ok);
  });

  it("is what the bin runs when its first word is a client command", () => {
    const root = new URL("../..", import.meta.url).pathname;
    const run = spawnSync(process.execPath, ["--import", "tsx", "src/cli.ts", "--json", "status"], {
      cwd: root,
      env: { PATH: process.env.PATH ?? "", ...env() },
      encoding: "utf8",
      timeout: 25_000,
    });
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: "Running" });
  });
});
