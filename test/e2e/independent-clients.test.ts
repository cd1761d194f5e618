import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { describe, expect, it } from "vitest";
import { aws4Fetch } from "../helpers/aws4-fetch.js";
import { gatewayEnv, useGateway } from "../helpers/gateway-process.js";
import { signRpc } from "../helpers/sigv4-headers.js";

// Clients that share no code with the gateway, all from npm: buf curl (Go)
// through server reflection, @grpc/grpc-js with its own HTTP/2 stack, and the
// aws4 signer. botocore's signer (a system package) is in test/interop/.

const run = promisify(execFile);
const root = new URL("../..", import.meta.url).pathname;
const gw = useGateway();

function bufCurl(
  args: string[],
  stdin?: string,
): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return new Promise((resolve) => {
    const child = spawn(
      "npx",
      ["--no-install", "buf", "curl", "--protocol", "grpc", "--http2-prior-knowledge", ...args],
      {
        cwd: root,
        env: gatewayEnv(),
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("close", (code) => resolve({ stdout, stderr, code }));
    child.stdin.end(stdin ?? "");
  });
}

describe("buf curl through server reflection", () => {
  it("lists the services", async () => {
    const { stdout, code, stderr } = await bufCurl(["--list-services", gw.url]);
    expect(code, stderr).toBe(0);
    expect(stdout.split("\n")).toEqual(
      expect.arrayContaining(["kms.admin.v1.KmsAdminService", "grpc.health.v1.Health"]),
    );
  });

  it("lists the 32 methods", async () => {
    const { stdout, code, stderr } = await bufCurl(["--list-methods", gw.url]);
    expect(code, stderr).toBe(0);
    const methods = stdout
      .trim()
      .split("\n")
      .filter((line) => line.startsWith("kms.admin.v1.KmsAdminService/"));
    expect(methods).toHaveLength(32);
    expect(methods).toContain("kms.admin.v1.KmsAdminService/RekeyMaster");
    expect(methods).toContain("kms.admin.v1.KmsAdminService/GenerateDataKey");
    expect(methods).toContain("kms.admin.v1.KmsAdminService/Decrypt");
    expect(methods).toContain("kms.admin.v1.KmsAdminService/RotateKey");
  });

  it("calls an RPC with signed headers, as the README shows", async () => {
    const url = `${gw.url}/kms.admin.v1.KmsAdminService/CreateKey`;
    const { stdout: headers } = await run("npm", ["run", "-s", "kms", "--", "sign", url], {
      cwd: root,
      env: gatewayEnv(),
    });
    const { stdout, code, stderr } = await bufCurl(
      ["-H", "@-", "-d", '{"tags":{"name":"buf-curl-key"}}', url],
      headers,
    );
    expect(code, stderr).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({
      keyId: "buf-curl-key",
      keyMetadata: { keyState: "Enabled" },
    });
  });

  it("is refused without a signature", async () => {
    const { code, stderr } = await bufCurl([
      "-d",
      "{}",
      `${gw.url}/kms.admin.v1.KmsAdminService/GetStatus`,
    ]);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/unauthenticated/i);
  });
});

describe("@grpc/grpc-js as an independent client", () => {
  type Callback<T> = (err: grpc.ServiceError | null, res: T) => void;
  type Client = grpc.Client &
    Record<string, (req: object, md: grpc.Metadata, cb: Callback<Record<string, unknown>>) => void>;

  function client(): Client {
    const definition = protoLoader.loadSync("kms/admin/v1/service.proto", {
      includeDirs: [`${root}proto`, `${root}third_party`],
      keepCase: true,
      defaults: true,
    });
    const loaded = grpc.loadPackageDefinition(definition) as unknown as {
      kms: {
        admin: {
          v1: { KmsAdminService: new (address: string, creds: grpc.ChannelCredentials) => Client };
        };
      };
    };
    return new loaded.kms.admin.v1.KmsAdminService(
      `127.0.0.1:${gw.port}`,
      grpc.credentials.createInsecure(),
    );
  }

  async function call(c: Client, method: string, req: object): Promise<Record<string, unknown>> {
    const metadata = new grpc.Metadata();
    for (const [name, value] of Object.entries(
      await signRpc(`${gw.url}/kms.admin.v1.KmsAdminService/${method}`),
    )) {
      metadata.set(name, value);
    }
    return new Promise((resolve, reject) => {
      c[method]?.(req, metadata, (err, res) => (err ? reject(err) : resolve(res)));
    });
  }

  it("creates a key, generates a data key and gets NOT_FOUND for a missing key", async () => {
    const c = client();
    try {
      const created = await call(c, "CreateKey", {
        description: "grpc-js",
        tags: { name: "grpc-js-key" },
      });
      expect(created).toMatchObject({ key_id: "grpc-js-key" });
      const dk = await call(c, "GenerateDataKey", {
        key_id: "grpc-js-key",
        encryption_context: { a: "b" },
      });
      expect(dk.key_id).toBe("grpc-js-key");
      expect(dk.plaintext_key).toHaveLength(32);
      const missing = await call(c, "DescribeKey", { key_id: "grpc-js-missing" }).catch(
        (e: grpc.ServiceError) => e,
      );
      expect((missing as grpc.ServiceError).code).toBe(grpc.status.NOT_FOUND);
    } finally {
      c.close();
    }
  });
});

describe("aws4's signer (npm)", () => {
  it("is accepted for a POST with a body and a GET", async () => {
    const post = await aws4Fetch(gw.url, "POST", "/rustfs/admin/v3/kms/keys", {
      body: '{"Tags":{"name":"aws4-key"}}',
    });
    expect(post.status).toBe(200);
    const get = await aws4Fetch(gw.url, "GET", "/rustfs/admin/v3/kms/keys/aws4-key");
    expect(get.status).toBe(200);
    expect(get.json).toMatchObject({ key_metadata: { key_id: "aws4-key" } });
  });
});
