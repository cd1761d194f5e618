import { createHash, randomBytes } from "node:crypto";
import http2 from "node:http2";
import { setTimeout as sleep } from "node:timers/promises";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KmsAdminService } from "../../gen/kms/admin/v1/service_pb.js";
import { type GatewayProcess, startGateway } from "../helpers/gateway-process.js";
import { processRssBytes } from "../helpers/process-rss.js";
import { openRaw, type RawConnection } from "../helpers/raw-http.js";
import { signedFetch, testCredentials } from "../helpers/signed-fetch.js";

// Issue 5, item 3: the edge read a whole body before it checked the signature, so
// unauthenticated clients could make it hold ~1 MiB each. Now a signature over the
// headers is checked first, and bodies that must be hashed before their signature can
// be checked share one small budget.

const MiB = 1024 * 1024;
const createKeyPath = "/rustfs/admin/v3/kms/keys";

/** amzDate is now as SigV4's X-Amz-Date (20261201T215700Z). */
function amzDate(): string {
  return new Date()
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
}

/**
 * forgedAuthorization is a well-formed SigV4 Authorization header for the test access key
 * with a signature that cannot match: it passes every check but the signature's own.
 */
function forgedAuthorization(date: string, signedHeaders: string): string {
  return (
    `AWS4-HMAC-SHA256 Credential=${testCredentials.accessKeyId}/${date.slice(0, 8)}/us-east-1/s3/aws4_request, ` +
    `SignedHeaders=${signedHeaders}, Signature=${randomBytes(32).toString("hex")}`
  );
}

/** rssGrowth measures the server's RSS before and while `flood` holds its connections. */
async function rssGrowth(pid: number, flood: () => Promise<() => void>): Promise<number> {
  // Settle first: start-up garbage is collected lazily and would count against the flood.
  await sleep(500);
  const before = processRssBytes(pid);
  const release = await flood();
  try {
    await sleep(1_500);
    return processRssBytes(pid) - before;
  } finally {
    release();
  }
}

describe("unauthenticated bodies cannot pin memory", () => {
  let gw: GatewayProcess;
  beforeAll(async () => {
    gw = await startGateway({ args: ["--preauth-body-budget", String(4 * MiB)] });
    // Warm up the REST path once, so its first-use allocations are not counted below.
    expect((await signedFetch(gw.url, "GET", createKeyPath)).status).toBe(200);
  });
  afterAll(async () => {
    await gw?.stop();
  });

  // Bound: 100 connections that each made the old edge buffer 1 MiB grew it by 103 MiB.
  // Refused before their bodies, they cost a socket, a parser and at most one 64 KiB read
  // each (~100 KiB, so ~10 MiB; measured ~9 MiB), plus heap noise; 32 MiB is a third of
  // the old cost.
  const boundBytes = 32 * MiB;

  it("refuses 100 stalled unsigned HTTP/1.1 uploads of 1 MiB before their bodies", async () => {
    const conns: RawConnection[] = [];
    const growth = await rssGrowth(gw.child.pid as number, async () => {
      const head =
        `POST ${createKeyPath} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${MiB}\r\n\r\n`;
      for (let i = 0; i < 100; i++) {
        // Everything but the last byte, then nothing: the body never completes.
        conns.push(
          await openRaw(gw.port, Buffer.concat([Buffer.from(head), Buffer.alloc(MiB - 1, 0x20)])),
        );
      }
      return () => {
        for (const c of conns) c.socket.destroy();
      };
    });
    // Each was answered 401 without waiting for its body, and its connection closed.
    for (const c of conns) {
      expect(c.received().toString("latin1")).toMatch(/^HTTP\/1\.1 401 /);
    }
    expect(growth).toBeLessThan(boundBytes);
  });

  it("refuses 120 stalled h2 streams with hash-signed but forged headers before their bodies", async () => {
    const sessions: http2.ClientHttp2Session[] = [];
    // How each stream ended: its HTTP status, or the code it was reset with before one.
    const outcomes: string[] = [];
    const growth = await rssGrowth(gw.child.pid as number, async () => {
      const body = Buffer.alloc(MiB, 0x20);
      const hash = createHash("sha256").update(body).digest("hex");
      for (let s = 0; s < 4; s++) {
        const session = http2.connect(gw.url);
        session.on("error", () => {});
        sessions.push(session);
        for (let i = 0; i < 30; i++) {
          const date = amzDate();
          const stream = session.request({
            ":method": "POST",
            ":path": createKeyPath,
            "content-type": "application/json",
            "content-length": String(MiB),
            "x-amz-date": date,
            "x-amz-content-sha256": hash,
            authorization: forgedAuthorization(date, "host;x-amz-content-sha256;x-amz-date"),
          });
          let status: number | undefined;
          stream.on("error", () => {});
          stream.on("response", (headers) => {
            status = Number(headers[":status"]);
          });
          stream.on("close", () =>
            outcomes.push(status ? `status ${status}` : `reset ${stream.rstCode}`),
          );
          // All but the last byte, and the stream is never ended.
          stream.write(body.subarray(0, MiB - 1));
        }
      }
      return () => {
        for (const session of sessions) session.destroy();
      };
    });
    // Every stream was refused: 401, or reset by Node's per-session memory guard
    // (ENHANCE_YOUR_CALM) when the client pushed data faster than the 401 went out.
    expect(outcomes).toHaveLength(120);
    for (const outcome of outcomes) {
      expect(["status 401", `reset ${http2.constants.NGHTTP2_ENHANCE_YOUR_CALM}`]).toContain(
        outcome,
      );
    }
    // Bound: the old edge read every stream's body (13 MiB in the first 1.5 s, growing to
    // 120 MiB); refused streams cost at most their 64 KiB flow-control window each before
    // the reset (120 × 64 KiB = 7.5 MiB), measured ~2 MiB.
    expect(growth).toBeLessThan(10 * MiB);
  });

  it("turns curl-style uploads away with 503 and Retry-After past the budget, and still serves signed requests", async () => {
    // No x-amz-content-sha256: the signature covers a hash of the body, so the body is
    // read first, under the 4 MiB budget. Eight stalled 1 MiB uploads: four fit.
    const conns: RawConnection[] = [];
    try {
      for (let i = 0; i < 8; i++) {
        const date = amzDate();
        const head =
          `POST ${createKeyPath} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
          `X-Amz-Date: ${date}\r\nAuthorization: ${forgedAuthorization(date, "host;x-amz-date")}\r\n` +
          `Content-Length: ${MiB}\r\n\r\n`;
        conns.push(
          await openRaw(gw.port, Buffer.concat([Buffer.from(head), Buffer.alloc(1024, 0x20)])),
        );
      }
      const refused = await Promise.all(
        conns.map((c) =>
          c.waitFor("\r\n\r\n", 1_500).then(
            (text) => text,
            () => "",
          ),
        ),
      );
      const busy = refused.filter((text) => text.startsWith("HTTP/1.1 503 "));
      expect(busy).toHaveLength(4);
      for (const text of busy) {
        expect(text).toMatch(/\r\nretry-after: 1\r\n/i);
        expect(text).toContain('"code":"ServiceUnavailable"');
      }
      // The four within budget are still waiting for their bodies (no answer yet).
      expect(refused.filter((text) => text === "")).toHaveLength(4);
      // A signed request (x-amz-content-sha256 set) does not need the budget.
      const signed = await signedFetch(gw.url, "POST", createKeyPath, {
        body: '{"KeyUsage":"ENCRYPT_DECRYPT","Description":"during the flood"}',
      });
      expect(signed.status).toBe(200);
      // Unauthenticated health calls hold their bodies under the same budget: none is
      // left, so they are turned away too, while GET /health (no body) still answers.
      const health = await fetch(`${gw.url}/grpc.health.v1.Health/Check`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      expect(health.status).toBe(503);
      expect(health.headers.get("retry-after")).toBe("1");
      expect((await fetch(`${gw.url}/health`)).status).toBe(200);
    } finally {
      for (const c of conns) c.socket.destroy();
    }
    // Once they are gone the budget is free again: a curl-style request is read and judged.
    await sleep(200);
    const date = amzDate();
    const late = await openRaw(
      gw.port,
      `POST ${createKeyPath} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Date: ${date}\r\n` +
        `Authorization: ${forgedAuthorization(date, "host;x-amz-date")}\r\nContent-Length: 2\r\n\r\n{}`,
    );
    const text = await late.waitFor("signature does not match", 2_000);
    expect(text).toMatch(/^HTTP\/1\.1 401 /);
    late.socket.destroy();
  });

  it("refuses an unsigned RPC with Unauthenticated whatever its body, without parsing it", async () => {
    // Malformed binary protobuf, as issue 5 (item 5) found answered with 500.
    const garbage = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    const connect = await fetch(`${gw.url}/kms.admin.v1.KmsAdminService/GetStatus`, {
      method: "POST",
      headers: { "content-type": "application/proto" },
      body: garbage,
    });
    expect(connect.status).toBe(401);
    expect(await connect.json()).toEqual({
      code: "unauthenticated",
      message: "authentication required",
    });
    // The same inside a gRPC frame with a lying length prefix, over h2.
    const session = http2.connect(gw.url);
    session.on("error", () => {});
    try {
      const stream = session.request({
        ":method": "POST",
        ":path": "/kms.admin.v1.KmsAdminService/GetStatus",
        "content-type": "application/grpc",
        te: "trailers",
      });
      stream.on("error", () => {});
      stream.resume();
      const trailers = new Promise<http2.IncomingHttpHeaders>((resolve) =>
        stream.once("trailers", resolve),
      );
      stream.end(Buffer.concat([Buffer.from([0, 0x7f, 0xff, 0xff, 0xff]), garbage]));
      expect((await trailers)["grpc-status"]).toBe("16");
    } finally {
      session.destroy();
    }
  });

  it("caps the body of unauthenticated health and reflection calls far below 1 MiB", async () => {
    const response = await fetch(`${gw.url}/grpc.health.v1.Health/Check`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ service: "x".repeat(100 * 1024) }),
    });
    expect(response.status).toBe(429);
    expect(await response.json()).toEqual({
      code: "resource_exhausted",
      message: "request body exceeds 65536 bytes",
    });
    expect((await fetch(`${gw.url}/health`)).status).toBe(200);
  });

  it("lets a keep-alive HTTP/1.1 client still sending a small body read its refusal", async () => {
    // Refused before its (small) body was read, the connection used to be closed under
    // a client still writing it, which then saw EPIPE instead of Unauthenticated.
    const client = createClient(
      KmsAdminService,
      createGrpcWebTransport({ baseUrl: gw.url, httpVersion: "1.1" }),
    );
    const codes = new Set<Code>();
    for (let i = 0; i < 20; i++) {
      codes.add(ConnectError.from(await client.getStatus({}).catch((e: unknown) => e)).code);
    }
    expect([...codes]).toEqual([Code.Unauthenticated]);
  });
});
