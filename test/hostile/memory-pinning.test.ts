import http2 from "node:http2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GatewayProcess } from "../helpers/gateway-process.js";
import {
  answerBoundMs,
  apiPrefix,
  bodyTimeoutMs,
  curlStyleAuth,
  expectAliveAndQuiet,
  expectRestError,
  expectRssGrowthBelow,
  guardEachCase,
  type Http1Response,
  hashedBadAuth,
  MiB,
  preauthBudgetBytes,
  rawHttp1,
  rawRequest,
  sampleRss,
  startHostileGateway,
  underAttack,
} from "./hostile-harness.js";

// The memory-pinning attacks of the issue, as measured there: 100 unsigned
// HTTP/1.1 connections and 120 h2 streams, each sending one byte short of a
// 1 MiB body and stalling. With a hashed x-amz-content-sha256 the signature
// is checked on the headers and each is refused with 401 before its body is
// read; without one (curl --aws-sigv4) the bodies are read under the
// pre-authentication budget (4 MiB here): 503 + Retry-After beyond it, 408 at
// the body deadline (1 s here) within it. The gateway's RSS is sampled
// throughout and its peak growth must stay within the budget plus 20 MiB.

let gw: GatewayProcess;
beforeAll(async () => {
  gw = await startHostileGateway();
});
guardEachCase(() => gw);
afterAll(async () => {
  await gw?.stop();
});

const restPath = `${apiPrefix}/generate-data-key`;
/** h1Pinners and h2Pinners are how many connections / streams each pinning attack opens (as in the issue). */
const h1Pinners = 100;
const h2Pinners = 120;
/** pinBound is the RSS growth the pinning attacks may cause: the budget plus room for sockets and GC. */
const pinBound = preauthBudgetBytes + 20 * MiB;
/** almostMiB is one byte short of a 1 MiB body: the whole allowed body but its end. */
const almostMiB = Buffer.alloc(MiB - 1, "{");

/** expectBudgetOrDeadline asserts a pinning request ended in 503 + Retry-After (over budget) or 408. */
function expectBudgetOrDeadline(status: number, headers: Record<string, unknown>, body: Buffer) {
  expect([408, 503], `answered ${status}: ${body.toString().slice(0, 120)}`).toContain(status);
  if (status === 503) {
    expect(headers["retry-after"]).toBe("1");
    const { code } = JSON.parse(body.toString()) as { code: string };
    expect(code).toBe("ServiceUnavailable");
  }
}

describe("memory pinning by unsigned bodies", () => {
  it(`${h1Pinners} HTTP/1.1 connections each stalling 1 byte short of 1 MiB (no x-amz-content-sha256): bounded memory, 503 over budget or 408`, async () => {
    const rss = sampleRss(gw);
    const results = await underAttack(
      gw,
      () =>
        Promise.all(
          Array.from({ length: h1Pinners }, () =>
            rawHttp1(
              gw.port,
              (socket) => {
                socket.write(
                  rawRequest("POST", restPath, {
                    "content-type": "application/json",
                    "content-length": String(MiB),
                    ...curlStyleAuth(),
                  }),
                );
                socket.write(almostMiB);
              },
              { responses: 1 },
            ),
          ),
        ),
      300,
    );
    expectRssGrowthBelow(rss.stop(), pinBound);
    const statuses = results.map((ex) => ex.responses.at(0)?.status ?? "none");
    expect(statuses.filter((s) => s === "none").length, "connections left unanswered").toBe(0);
    for (const ex of results) {
      const res = ex.responses[0] as Http1Response;
      expectBudgetOrDeadline(res.status, res.headers, res.body);
    }
    expect(statuses, "100+ MiB over a 4 MiB budget must meet the budget").toContain(503);
  });

  it(`${h1Pinners} HTTP/1.1 connections each stalling 1 MiB with a hashed but bad signature: bounded memory, all 401 at once`, async () => {
    const rss = sampleRss(gw);
    const results = await underAttack(gw, () =>
      Promise.all(
        Array.from({ length: h1Pinners }, () =>
          rawHttp1(
            gw.port,
            (socket) => {
              socket.write(
                rawRequest("POST", restPath, {
                  "content-type": "application/json",
                  "content-length": String(MiB),
                  ...hashedBadAuth(),
                }),
              );
              socket.write(almostMiB);
            },
            { responses: 1 },
          ),
        ),
      ),
    );
    expectRssGrowthBelow(rss.stop(), pinBound);
    for (const ex of results) {
      expect(ex.responses.length, `no answer within ${answerBoundMs} ms`).toBe(1);
      expectRestError(ex.responses[0] as Http1Response, 401);
      expect(ex.elapsedMs).toBeLessThan(bodyTimeoutMs * 0.8 + 1000);
    }
  });

  /** pinH2 opens h2Pinners streams on one h2c session, each stalling almost 1 MiB. */
  async function pinH2(auth: Record<string, string>) {
    const session = http2.connect(gw.url);
    session.on("error", () => {});
    try {
      return await Promise.all(
        Array.from(
          { length: h2Pinners },
          () =>
            new Promise<{
              status: number | undefined;
              headers: Record<string, unknown>;
              body: Buffer;
              ms: number;
            }>((resolve) => {
              const started = performance.now();
              const stream = session.request(
                {
                  ":method": "POST",
                  ":path": restPath,
                  "content-type": "application/json",
                  "content-length": String(MiB),
                  ...auth,
                },
                { endStream: false },
              );
              stream.write(almostMiB);
              const chunks: Buffer[] = [];
              let status: number | undefined;
              let headers: Record<string, unknown> = {};
              stream.on("response", (h) => {
                headers = h;
                status = Number(h[":status"]);
              });
              stream.on("data", (c: Buffer) => chunks.push(c));
              stream.on("error", () => {});
              const done = () => {
                clearTimeout(timer);
                resolve({
                  status,
                  headers,
                  body: Buffer.concat(chunks),
                  ms: performance.now() - started,
                });
              };
              const timer = setTimeout(done, answerBoundMs);
              stream.once("close", done);
            }),
        ),
      );
    } finally {
      session.destroy();
    }
  }

  it(`${h2Pinners} h2 streams each stalling 1 byte short of 1 MiB (no x-amz-content-sha256): bounded memory, 503 over budget or 408`, async () => {
    const rss = sampleRss(gw);
    const answers = await underAttack(gw, () => pinH2(curlStyleAuth()), 300);
    expectRssGrowthBelow(rss.stop(), pinBound);
    const statuses = answers.map((a) => a.status ?? "none");
    expect(statuses.filter((s) => s === "none").length, "streams left unanswered").toBe(0);
    for (const a of answers) expectBudgetOrDeadline(a.status ?? 0, a.headers, a.body);
    expect(statuses, "100+ MiB over a 4 MiB budget must meet the budget").toContain(503);
  });

  it(`${h2Pinners} h2 streams each stalling 1 MiB with a hashed but bad signature: bounded memory, all 401 at once`, async () => {
    const rss = sampleRss(gw);
    const answers = await underAttack(gw, () => pinH2(hashedBadAuth()));
    expectRssGrowthBelow(rss.stop(), pinBound);
    for (const a of answers) {
      expect(a.status, `no answer within ${answerBoundMs} ms`).toBe(401);
      expect(a.ms).toBeLessThan(bodyTimeoutMs * 0.8 + 1000);
    }
  });
});

it("is still alive, serves signed requests and logged no error", async () => {
  await expectAliveAndQuiet(gw);
});
