import http2 from "node:http2";
import { describe, expect, it } from "vitest";
import {
  answerBoundMs,
  apiPrefix,
  curlStyleAuth,
  expectAliveAndQuiet,
  expectRestError,
  expectRssGrowthBelow,
  type Http1Response,
  hashedBadAuth,
  MiB,
  preauthBudgetBytes,
  rawHttp1,
  rawRequest,
  sampleRss,
  underAttack,
  useHostileGateway,
} from "./hostile-harness.js";

// The memory-pinning attacks of the issue, as measured there: 100 unsigned
// HTTP/1.1 connections and 120 h2 streams, each sending one byte short of a
// 1 MiB body and stalling. With a hashed x-amz-content-sha256 the signature
// is checked on the headers and each is refused with 401 before its body is
// read; without one (curl --aws-sigv4) the bodies are read under the
// pre-authentication budget (4 MiB here): 503 + Retry-After beyond it, 408 at
// the body deadline (1 s here) within it. The gateway's RSS is sampled
// throughout and its peak growth must stay under pinBound.

// Each case gets a fresh gateway: RSS never shrinks much once grown, so a
// case measured after another would see the earlier case's memory reused.
const gw = useHostileGateway({ freshPerCase: true });

const restPath = `${apiPrefix}/generate-data-key`;
/** h1Pinners and h2Pinners are how many connections / streams each pinning attack opens (as in the issue). */
const h1Pinners = 100;
const h2Pinners = 120;
/**
 * pinBound is the RSS growth a pinning attack may cause: the budget plus room
 * for 100+ sockets' buffers and for garbage not yet collected (a server that
 * reads and discards refused bodies churns through them). Holding the bodies,
 * as the unfixed gateway does, grows it by about the 100 MiB sent.
 */
const pinBound = preauthBudgetBytes + 44 * MiB;
/** pinWaitMs is how long each pinned request may take to be answered or cut off (deadline + slack for a loaded machine). */
const pinWaitMs = answerBoundMs + 2000;
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

/** pinH1 opens h1Pinners connections, each sending all but the last byte of a 1 MiB body. */
function pinH1(auth: () => Record<string, string>) {
  return Promise.all(
    Array.from({ length: h1Pinners }, () =>
      rawHttp1(
        gw.port,
        (socket) => {
          socket.write(rawRequest("POST", restPath, { "content-length": String(MiB), ...auth() }));
          socket.write(almostMiB);
        },
        { responses: 1, waitMs: pinWaitMs },
      ),
    ),
  );
}

/** H2Pinned is how one pinned h2 stream ended. */
interface H2Pinned {
  status: number | undefined;
  headers: Record<string, unknown>;
  body: Buffer;
  /** The stream was still open when the wait ended. */
  hung: boolean;
}

/** pinH2 opens h2Pinners streams on one h2c session, each stalling almost 1 MiB. */
async function pinH2(auth: () => Record<string, string>): Promise<H2Pinned[]> {
  const session = http2.connect(gw.url);
  session.on("error", () => {});
  try {
    return await Promise.all(
      Array.from(
        { length: h2Pinners },
        () =>
          new Promise<H2Pinned>((resolve) => {
            const stream = session.request(
              { ":method": "POST", ":path": restPath, "content-length": String(MiB), ...auth() },
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
            const done = (hung: boolean) => {
              clearTimeout(timer);
              resolve({
                status,
                headers,
                body: Buffer.concat(chunks),
                hung,
              });
            };
            const timer = setTimeout(() => done(true), pinWaitMs);
            stream.once("close", () => done(false));
          }),
      ),
    );
  } finally {
    session.destroy();
  }
}

/**
 * expectH2Refused asserts no stream hung, and each was either answered as
 * `expectAnswer` says or closed without an answer: reset by the server (Node
 * resets new streams with ENHANCE_YOUR_CALM once a session holds too much
 * unread data) or ended with its connection. Both refuse and bound memory.
 */
function expectH2Refused(pinned: H2Pinned[], expectAnswer: (p: H2Pinned) => void): void {
  expect(pinned.filter((p) => p.hung).length, `streams still open after ${pinWaitMs} ms`).toBe(0);
  for (const p of pinned) {
    if (p.status !== undefined) expectAnswer(p);
  }
}

describe("memory pinning by unsigned bodies", () => {
  it(`${h1Pinners} HTTP/1.1 connections each stalling 1 byte short of 1 MiB (no x-amz-content-sha256): bounded memory, 503 over budget or 408`, async () => {
    const rss = sampleRss(gw);
    const results = await underAttack(gw, () => pinH1(curlStyleAuth), 300);
    expectRssGrowthBelow(rss.stop(), pinBound);
    const hung = results.filter((ex) => ex.timedOut && ex.responses.length === 0);
    expect(hung.length, `connections neither answered nor closed after ${pinWaitMs} ms`).toBe(0);
    for (const ex of results) {
      const res = ex.responses.at(0);
      if (res !== undefined) expectBudgetOrDeadline(res.status, res.headers, res.body);
    }
    const statuses = results.map((ex) => ex.responses.at(0)?.status);
    expect(statuses, "100 MiB over a 4 MiB budget must meet the budget").toContain(503);
    await expectAliveAndQuiet(gw);
  });

  it(`${h1Pinners} HTTP/1.1 connections each stalling 1 MiB with a hashed but bad signature: bounded memory, all 401 at once`, async () => {
    const rss = sampleRss(gw);
    const results = await underAttack(gw, () => pinH1(hashedBadAuth));
    expectRssGrowthBelow(rss.stop(), pinBound);
    for (const ex of results) {
      // The body never ends, so an answer at all proves it was not waited for; 401, not 408.
      expect(ex.responses.length, `no answer within ${pinWaitMs} ms`).toBe(1);
      expectRestError(ex.responses[0] as Http1Response, 401);
    }
    await expectAliveAndQuiet(gw);
  });

  it(`${h2Pinners} h2 streams each stalling 1 byte short of 1 MiB (no x-amz-content-sha256): bounded memory, each 503 over budget, 408, or reset`, async () => {
    const rss = sampleRss(gw);
    const pinned = await underAttack(gw, () => pinH2(curlStyleAuth), 300);
    expectRssGrowthBelow(rss.stop(), pinBound);
    expectH2Refused(pinned, (p) => expectBudgetOrDeadline(p.status ?? 0, p.headers, p.body));
    await expectAliveAndQuiet(gw);
  });

  it(`${h2Pinners} h2 streams each stalling 1 MiB with a hashed but bad signature: bounded memory, each 401 or reset`, async () => {
    const rss = sampleRss(gw);
    const pinned = await underAttack(gw, () => pinH2(hashedBadAuth));
    expectRssGrowthBelow(rss.stop(), pinBound);
    expectH2Refused(pinned, (p) => expect(p.status).toBe(401));
    await expectAliveAndQuiet(gw);
  });
});
