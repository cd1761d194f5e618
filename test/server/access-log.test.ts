import { rm } from "node:fs/promises";
import http from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KmsAdminService } from "../../gen/kms/admin/v1/service_pb.js";
import { createStaticCredentialStore } from "../../src/auth/credential-store.js";
import { createRootIdentity } from "../../src/auth/identity.js";
import { createGateway, type Gateway } from "../../src/server/gateway.js";
import { createLogger } from "../../src/server/logger.js";
import { awsJsonFetch } from "../awsjson/kms-client.js";
import { newDataDir, useGateway } from "../helpers/gateway-process.js";
import { signedFetch, signedHeaders, testCredentials } from "../helpers/signed-fetch.js";
import { sigv4Interceptor } from "../helpers/sigv4-headers.js";

// Issue 5, item 11: gRPC failures were logged as status 200, REST 401s did not say why,
// and lines had no remote address, request id or RPC name.

type Line = Record<string, unknown>;
const keysPath = "/rustfs/admin/v3/kms/keys";

/** requestLines parses the access lines among a gateway's log lines. */
function requestLines(lines: string[]): Line[] {
  return lines
    .map((line) => {
      try {
        return JSON.parse(line) as Line;
      } catch {
        return undefined;
      }
    })
    .filter((entry): entry is Line => entry?.message === "request");
}

describe("access lines of a gateway process (JSON on stderr)", () => {
  const gw = useGateway();

  /** lineFor waits for the access line of the request with this id. */
  async function lineFor(reqId: string): Promise<Line> {
    let found: Line | undefined;
    await expect
      .poll(
        () => {
          found = requestLines(gw.logLines).find((line) => line.reqId === reqId);
          return found !== undefined;
        },
        { timeout: 5_000 },
      )
      .toBe(true);
    return found as Line;
  }

  it("logs a REST success with request id, remote, protocol, RPC, status, code and caller", async () => {
    const answer = await signedFetch(gw.url, "GET", keysPath, {
      headers: { "x-request-id": "rest-ok-1" },
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.get("x-request-id")).toBe("rest-ok-1");
    expect(await lineFor("rest-ok-1")).toMatchObject({
      level: "info",
      remote: "127.0.0.1",
      protocol: "rest",
      rpc: "kms.admin.v1.KmsAdminService/ListKeys",
      method: "GET",
      path: keysPath,
      status: 200,
      code: "ok",
      caller: testCredentials.accessKeyId,
    });
  });

  it("logs an AWS KMS API error by its Connect code, not by the 400 every such error shares", async () => {
    const missing = await awsJsonFetch(gw.url, "DescribeKey", '{"KeyId":"no-such-key"}', {
      headers: { "x-request-id": "aws-missing-1" },
    });
    expect(missing.status).toBe(400);
    expect((missing.json as { __type: string }).__type).toBe("NotFoundException");
    expect(await lineFor("aws-missing-1")).toMatchObject({
      protocol: "aws-json",
      rpc: "kms.aws.v1.TrentService/DescribeKey",
      status: 400,
      code: "not_found",
    });
    const bad = await awsJsonFetch(gw.url, "GenerateRandom", '{"NumberOfBytes":0}', {
      headers: { "x-request-id": "aws-invalid-1" },
    });
    expect(bad.status).toBe(400);
    expect(await lineFor("aws-invalid-1")).toMatchObject({ status: 400, code: "invalid_argument" });
    const unsigned = await fetch(`${gw.url}/`, {
      method: "POST",
      headers: {
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": "TrentService.ListKeys",
        "x-request-id": "aws-unsigned-1",
      },
      body: "{}",
    });
    expect(unsigned.status).toBe(400);
    expect(await lineFor("aws-unsigned-1")).toMatchObject({ code: "unauthenticated" });
  });

  it("generates a request id when none (or an unusable one) is sent, and echoes it", async () => {
    const plain = await fetch(`${gw.url}/health`);
    const generated = plain.headers.get("x-request-id") ?? "";
    expect(generated).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(await lineFor(generated)).toMatchObject({ protocol: "health", status: 200 });

    const hostile = await fetch(`${gw.url}/health`, {
      headers: { "x-request-id": `bad id\twith "quotes" ${"x".repeat(200)}` },
    });
    const replaced = hostile.headers.get("x-request-id") ?? "";
    expect(replaced).toMatch(/^[A-Za-z0-9_-]{16}$/);
  });

  it("says why a REST request was refused (authError) and logs it as a warning", async () => {
    const answer = await signedFetch(gw.url, "GET", keysPath, {
      credentials: null,
      headers: { "x-request-id": "rest-401-1" },
    });
    expect(answer.status).toBe(401);
    expect(await lineFor("rest-401-1")).toMatchObject({
      level: "warn",
      protocol: "rest",
      status: 401,
      code: "unauthenticated",
      caller: null,
      authError: "authentication required",
    });
  });

  it("logs a failed gRPC call with its RPC name and code, not as ok", async () => {
    const client = createClient(
      KmsAdminService,
      createGrpcTransport({
        baseUrl: gw.url,
        interceptors: [
          sigv4Interceptor(),
          (next) => (req) => {
            req.header.set("x-request-id", "grpc-404-1");
            return next(req);
          },
        ],
      }),
    );
    const err = await client.describeKey({ keyId: "no-such-key" }).catch((e: unknown) => e);
    expect(ConnectError.from(err).code).toBe(Code.NotFound);
    expect(await lineFor("grpc-404-1")).toMatchObject({
      level: "info",
      protocol: "grpc",
      rpc: "kms.admin.v1.KmsAdminService/DescribeKey",
      status: 200,
      code: "not_found",
      caller: testCredentials.accessKeyId,
    });
  });

  it("logs a client that hangs up mid-body as aborted, at info level", async () => {
    const headers = await signedHeaders(gw.url, "POST", keysPath, {
      headers: { "x-amz-content-sha256": "UNSIGNED-PAYLOAD", "x-request-id": "abort-1" },
    });
    const { host: _, ...rest } = headers;
    await new Promise<void>((resolve) => {
      const req = http.request(`${gw.url}${keysPath}`, {
        method: "POST",
        headers: { ...rest, "content-length": "100" },
      });
      req.on("error", () => resolve());
      req.write("{");
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 200);
    });
    expect(await lineFor("abort-1")).toMatchObject({
      level: "info",
      aborted: true,
      status: 499,
      code: "canceled",
      caller: testCredentials.accessKeyId,
    });
  });

  it("never logs a secret or an encryption-context value", async () => {
    const context = { bucket: "secret-bucket-name-4711" };
    const created = await signedFetch(gw.url, "POST", keysPath, { body: "{}" });
    const keyId = (created.json as { key_metadata: { key_id: string } }).key_metadata.key_id;
    const dataKey = await signedFetch(gw.url, "POST", "/rustfs/admin/v3/kms/generate-data-key", {
      body: JSON.stringify({ key_id: keyId, encryption_context: context }),
      headers: { "x-request-id": "gdk-1" },
    });
    expect(dataKey.status).toBe(200);
    await lineFor("gdk-1");
    const all = gw.logLines.join("\n");
    expect(all).not.toContain(testCredentials.secretAccessKey);
    expect(all).not.toContain("secret-bucket-name-4711");
    expect(all).not.toContain((dataKey.json as { plaintext_key: string }).plaintext_key);
  });
});

describe("repeated identical auth failures", () => {
  const lines: Line[] = [];
  let gateway: Gateway;
  let url: string;
  const dataDir = newDataDir();
  beforeAll(async () => {
    gateway = await createGateway({
      dataDir,
      credentials: createStaticCredentialStore([
        {
          identity: createRootIdentity(testCredentials.accessKeyId),
          secretKey: testCredentials.secretAccessKey,
        },
      ]),
      log: createLogger((line) => lines.push(JSON.parse(line) as Line)),
      authFailureLogWindowMs: 500,
    });
    const { port } = await gateway.listen("127.0.0.1", 0);
    url = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await gateway?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("are logged once per window, then summed up with the count suppressed", async () => {
    for (let i = 0; i < 40; i++) {
      const answer = await signedFetch(url, "GET", keysPath, { credentials: null });
      expect(answer.status).toBe(401);
    }
    // A different reason is a different line.
    const wrongSecret = await signedFetch(url, "GET", keysPath, {
      credentials: { accessKeyId: testCredentials.accessKeyId, secretAccessKey: "wrong" },
    });
    expect(wrongSecret.status).toBe(401);
    await sleep(1_000);
    const refused = lines.filter((line) => line.message === "request" && line.status === 401);
    const summaries = lines.filter((line) => line.message === "repeated auth failures suppressed");
    // One line per reason per window (a slow machine may need more than one window for
    // the 40), and the summaries account for every request not logged.
    const unsigned = refused.filter((line) => line.authError === "authentication required");
    expect(unsigned.length).toBeGreaterThanOrEqual(1);
    expect(unsigned.length).toBeLessThanOrEqual(4);
    expect(refused.filter((line) => line.authError === "signature does not match")).toHaveLength(1);
    expect(summaries.length).toBeGreaterThanOrEqual(1);
    for (const summary of summaries) {
      expect(summary).toMatchObject({
        level: "warn",
        authError: "authentication required",
        path: keysPath,
        remote: "127.0.0.1",
      });
    }
    const suppressed = summaries.reduce((sum, line) => sum + (line.suppressed as number), 0);
    expect(unsigned.length + suppressed).toBe(40);
    // Signed requests are never folded.
    for (let i = 0; i < 3; i++) {
      expect((await signedFetch(url, "GET", "/rustfs/admin/v3/kms/status")).status).toBe(200);
    }
    await expect
      .poll(() => lines.filter((line) => line.message === "request" && line.status === 200).length)
      .toBe(3);
  });
});
