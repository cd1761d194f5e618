import http2 from "node:http2";
import { setTimeout as delay } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import {
  connectRawH2,
  frame,
  frameFlag,
  frameType,
  h2ErrorCode,
  type RawH2,
  requestHeaders,
  settingsFrame,
} from "../helpers/h2-frames.js";
import {
  answerBoundMs,
  apiPrefix,
  bodyTimeoutMs,
  curlStyleAuth,
  expectAliveAndQuiet,
  expectRestError,
  expectRssGrowthBelow,
  MiB,
  sampleRss,
  underAttack,
  useHostileGateway,
  withDeadline,
} from "./hostile-harness.js";

// HTTP/2 abuse over h2c: rapid reset, SETTINGS / PING / CONTINUATION floods
// written as raw frames, a protocol error, and streams whose body never ends.
// A flood must end in a GOAWAY with an error code followed at once by a
// closed socket (RFC 9113 §5.4.1), a stalled stream in a 408 at the body
// deadline; a signed request is served during and after each.

const gw = useHostileGateway();

/**
 * closeAfterGoawayMs is how long the socket may stay open after an error
 * GOAWAY: "at once" (RFC 9113 §5.4.1), allowing for a server that can only
 * notice nghttp2's GOAWAY by probing the session (about 1.5 s) on a loaded
 * machine. Node's own behaviour is the 120 s idle timeout.
 */
const closeAfterGoawayMs = 2500;

/** FloodResult is how a bounded flood ended. */
interface FloodResult {
  batches: number;
  goawayCode: number | undefined;
  /** Milliseconds from the GOAWAY to the socket's close, or undefined when it did not close in time. */
  closeLagMs: number | undefined;
}

/**
 * flood writes `batch()` up to `maxBatches` times or for `maxMs`, stopping
 * early once the server sends GOAWAY or closes; then it reads again (when
 * `paused` it had stopped reading, as a client that never ACKs would) and
 * waits a bounded time for the close.
 */
async function flood(
  conn: RawH2,
  batch: (n: number) => Buffer,
  options: { maxBatches: number; maxMs: number; paused?: boolean },
): Promise<FloodResult> {
  const started = performance.now();
  let socketClosed = false;
  void conn.closed.then(() => {
    socketClosed = true;
  });
  if (options.paused) conn.socket.pause();
  let n = 0;
  while (
    n < options.maxBatches &&
    performance.now() - started < options.maxMs &&
    !socketClosed &&
    conn.goawayCode() === undefined
  ) {
    if (!conn.write(batch(n++))) {
      // Wait for the kernel buffer to drain, but never past the flood's bound.
      await Promise.race([
        new Promise((resolve) => conn.socket.once("drain", resolve)),
        conn.closed,
        delay(200),
      ]);
    }
  }
  conn.socket.resume();
  const closedAt = await Promise.race([conn.closed, delay(answerBoundMs).then(() => undefined)]);
  const goawayAt = conn.goawayAtMs();
  return {
    batches: n,
    goawayCode: conn.goawayCode(),
    closeLagMs: closedAt === undefined ? undefined : Math.max(0, closedAt - (goawayAt ?? closedAt)),
  };
}

/** expectErrorGoawayAndClose asserts a GOAWAY with an error code, then a closed socket at once. */
function expectErrorGoawayAndClose(result: FloodResult, codes: number[]): void {
  expect(result.goawayCode, "GOAWAY error code").toBeDefined();
  expect(codes).toContain(result.goawayCode);
  expect(
    result.closeLagMs,
    `socket still open ${answerBoundMs} ms after GOAWAY with code ${result.goawayCode}`,
  ).toBeDefined();
  expect(result.closeLagMs).toBeLessThan(closeAfterGoawayMs);
}

/**
 * expectFloodCutOff asserts the server closed the connection within the
 * bound; when a GOAWAY got through before the close, it names an error. (A
 * server closing on a client that does not read resets the socket, and the
 * client's kernel then drops the unread GOAWAY, so one is not required.)
 */
function expectFloodCutOff(result: FloodResult): void {
  expect(result.closeLagMs, "the flooding connection is still open").toBeDefined();
  if (result.goawayCode !== undefined) {
    expect(result.goawayCode).not.toBe(h2ErrorCode.noError);
    expect(result.closeLagMs).toBeLessThan(closeAfterGoawayMs);
  }
}

const restPath = `${apiPrefix}/generate-data-key`;

describe("floods", () => {
  it("rapid reset: HEADERS then RST_STREAM, 3000 times, is cut off: the socket is closed", async () => {
    const rss = sampleRss(gw);
    const result = await underAttack(gw, async () => {
      const conn = await connectRawH2(gw.port);
      const block = requestHeaders("POST", restPath, [["content-type", "application/json"]]);
      const cancel = Buffer.alloc(4);
      cancel.writeUInt32BE(h2ErrorCode.cancel);
      return flood(
        conn,
        (n) => {
          // 50 streams per write: open each and cancel it at once.
          const parts: Buffer[] = [];
          for (let i = 0; i < 50; i++) {
            const id = 2 * (50 * n + i) + 1;
            parts.push(frame(frameType.headers, frameFlag.endHeaders, id, block));
            parts.push(frame(frameType.rstStream, 0, id, cancel));
          }
          return Buffer.concat(parts);
        },
        { maxBatches: 60, maxMs: 3000 },
      );
    });
    expectRssGrowthBelow(rss.stop(), 32 * MiB);
    // The server may destroy the socket while the flood is still being written;
    // the client's kernel then drops the GOAWAY, so only the close is required.
    expectFloodCutOff(result);
  });

  it.each([
    ["SETTINGS", () => settingsFrame([[0x3, 100]])],
    ["PING", () => frame(frameType.ping, 0, 0, Buffer.alloc(8, 7))],
  ])("%s flood from a client that never reads is cut off: the socket is closed", async (_, one) => {
    const rss = sampleRss(gw);
    const result = await underAttack(gw, async () => {
      const conn = await connectRawH2(gw.port);
      // 2000 frames per write, at most 500 writes (1M frames) or 3 s.
      const batch = Buffer.concat(Array.from({ length: 2000 }, one));
      return flood(conn, () => batch, { maxBatches: 500, maxMs: 3000, paused: true });
    });
    expectRssGrowthBelow(rss.stop(), 48 * MiB);
    expectFloodCutOff(result);
  });

  it("control: a request split over HEADERS + CONTINUATION frames is answered on its stream", async () => {
    const conn = await connectRawH2(gw.port);
    const block = requestHeaders("GET", `${apiPrefix}/status`, [["x-a", "1"]]);
    const half = Math.floor(block.length / 2);
    conn.write(frame(frameType.headers, frameFlag.endStream, 1, block.subarray(0, half)));
    conn.write(frame(frameType.continuation, frameFlag.endHeaders, 1, block.subarray(half)));
    await withDeadline(
      (async () => {
        while (!conn.frames.some((f) => f.type === frameType.headers && f.streamId === 1)) {
          await delay(10);
        }
      })(),
      answerBoundMs,
      "response HEADERS on stream 1",
    );
    expect(conn.goawayCode()).toBeUndefined();
    conn.socket.destroy();
  });

  it("CONTINUATION flood without END_HEADERS is cut off: the socket is closed", async () => {
    const rss = sampleRss(gw);
    const result = await underAttack(gw, async () => {
      const conn = await connectRawH2(gw.port);
      conn.write(frame(frameType.headers, 0, 1, requestHeaders("POST", restPath)));
      let field = 0;
      return flood(
        conn,
        () => {
          // 16 CONTINUATION frames of ~1 KiB of new header fields per write, never END_HEADERS.
          const parts: Buffer[] = [];
          for (let i = 0; i < 16; i++) {
            const name = `x-c${field++}`;
            const fragment = Buffer.concat([
              Buffer.from([0x00, name.length]),
              Buffer.from(name, "latin1"),
              // HPACK string length 1000 with a 7-bit prefix: 127, then 873 as 0xe9 0x06.
              Buffer.from([0x7f, 0xe9, 0x06]),
              Buffer.alloc(1000, "v"),
            ]);
            parts.push(frame(frameType.continuation, 0, 1, fragment));
          }
          return Buffer.concat(parts);
        },
        { maxBatches: 2000, maxMs: 3000 },
      );
    });
    expectRssGrowthBelow(rss.stop(), 48 * MiB);
    expectFloodCutOff(result);
  });

  it("a DATA frame on stream 0 (protocol error) gets an error GOAWAY and the socket is closed at once", async () => {
    const conn = await connectRawH2(gw.port);
    conn.write(frame(frameType.data, 0, 0, Buffer.from("x")));
    const result = await flood(conn, () => Buffer.alloc(0), { maxBatches: 0, maxMs: 0 });
    expectErrorGoawayAndClose(result, [h2ErrorCode.protocolError]);
  });
});

/** H2Answer is what a node:http2 request saw. */
interface H2Answer {
  status: number | undefined;
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
  rstCode: number | undefined;
  elapsedMs: number;
}

/**
 * stalledH2Request opens a stream with `headers`, writes `body` without ending
 * it, and collects the answer until the stream closes or `waitMs` passes.
 */
async function stalledH2Request(
  session: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders,
  body: Buffer | undefined,
  waitMs = answerBoundMs,
): Promise<H2Answer> {
  const started = performance.now();
  const stream = session.request(headers, { endStream: false });
  if (body !== undefined) stream.write(body);
  const chunks: Buffer[] = [];
  let status: number | undefined;
  let responseHeaders: http2.IncomingHttpHeaders = {};
  stream.on("response", (h) => {
    responseHeaders = h;
    status = Number(h[":status"]);
  });
  stream.on("data", (c: Buffer) => chunks.push(c));
  stream.on("error", () => {});
  await Promise.race([new Promise((resolve) => stream.once("close", resolve)), delay(waitMs)]);
  const closed = stream.closed;
  if (!closed) stream.close(http2.constants.NGHTTP2_CANCEL);
  return {
    status,
    headers: responseHeaders,
    body: Buffer.concat(chunks),
    rstCode: closed ? stream.rstCode : undefined,
    elapsedMs: performance.now() - started,
  };
}

describe("streams that never end", () => {
  it.each([
    ["with part of a body", Buffer.from('{"key_id":"')],
    ["with no body at all", undefined],
  ])(
    "an h2 stream without END_STREAM (%s) gets a JSON 408 at the body deadline",
    async (_, body) => {
      const session = http2.connect(gw.url);
      session.on("error", () => {});
      try {
        const answer = await underAttack(gw, () =>
          stalledH2Request(
            session,
            {
              ":method": "POST",
              ":path": restPath,
              "content-type": "application/json",
              ...curlStyleAuth(),
            },
            body,
          ),
        );
        expect(answer.status, `no answer within ${answerBoundMs} ms`).toBe(408);
        expectRestError({ status: 408, headers: answer.headers as never, body: answer.body }, 408);
        expect(JSON.parse(answer.body.toString()).code).toBe("RequestTimeout");
        expect(answer.elapsedMs).toBeGreaterThanOrEqual(bodyTimeoutMs * 0.9);
      } finally {
        session.destroy();
      }
    },
  );

  it("120 stalled h2 streams on one session are all answered by the deadline, and the session still serves", async () => {
    const session = http2.connect(gw.url);
    session.on("error", () => {});
    try {
      const answers = await underAttack(gw, () =>
        Promise.all(
          Array.from({ length: 120 }, () =>
            stalledH2Request(
              session,
              { ":method": "POST", ":path": restPath, ...curlStyleAuth() },
              Buffer.from("{"),
            ),
          ),
        ),
      );
      // 408 at the deadline; 503 + Retry-After is the agreed answer should the
      // budget count these streams differently (they hold one byte each).
      for (const a of answers) {
        expect(a.status, `no answer within ${answerBoundMs} ms (rst ${a.rstCode})`).toBeDefined();
        expect([408, 503]).toContain(a.status);
        if (a.status === 503) expect(a.headers["retry-after"]).toBe("1");
      }
      expect(answers.map((a) => a.status)).toContain(408);
      const health = await withDeadline(
        new Promise<number>((resolve, reject) => {
          const s = session.request({ ":path": "/health" });
          s.on("response", (h) => resolve(Number(h[":status"])));
          s.on("error", reject);
          s.resume();
        }),
        2000,
        "GET /health on the same session",
      );
      expect(health).toBe(200);
    } finally {
      session.destroy();
    }
  });
});

it("is still alive, serves signed requests and logged no error", async () => {
  await expectAliveAndQuiet(gw);
});
