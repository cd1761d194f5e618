import { setTimeout as delay } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import {
  apiPrefix,
  expectAliveAndQuiet,
  expectRefused,
  expectRestError,
  expectRssGrowthBelow,
  MiB,
  rawHttp1,
  rawRequest,
  sampleRss,
  underAttack,
  useHostileGateway,
} from "./hostile-harness.js";

// HTTP/1.1 framing attacks, written byte for byte over node:net: header and
// query sizes, broken chunked encoding, request smuggling (CL.TE, TE.CL,
// duplicate Content-Length, obs-fold) and slowloris headers. Each must end in
// one 4xx or a closed connection, and must never let a second ("smuggled")
// request through.

const gw = useHostileGateway();

const smuggled = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
const post = `POST ${apiPrefix}/generate-data-key`;

describe("header and query sizes", () => {
  it("refuses one 64 KiB header", async () => {
    const ex = await rawHttp1(
      gw.port,
      rawRequest("GET", `${apiPrefix}/status`, { "x-big": "a".repeat(64 * 1024) }),
    );
    expectRefused(ex);
    expect(ex.responses.length).toBeLessThanOrEqual(1);
  });

  it("refuses 4000 headers (over the header size limit)", async () => {
    const headers: [string, string][] = Array.from({ length: 4000 }, (_, i) => [`x-h${i}`, "v"]);
    const ex = await rawHttp1(gw.port, rawRequest("GET", `${apiPrefix}/status`, headers));
    expectRefused(ex);
  });

  it("answers 500 small headers on an unsigned request with a JSON 401", async () => {
    const headers: [string, string][] = Array.from({ length: 500 }, (_, i) => [`x-h${i}`, "v"]);
    const ex = await rawHttp1(gw.port, rawRequest("GET", `${apiPrefix}/status`, headers), {
      responses: 1,
    });
    expect(ex.responses).toHaveLength(1);
    expectRestError(ex.responses[0] as never, 401);
  });

  it("answers a 12 KiB query string on an unsigned request with a JSON 4xx", async () => {
    const query = `limit=1&${"x".repeat(12 * 1024)}=1`;
    const ex = await rawHttp1(gw.port, rawRequest("GET", `${apiPrefix}/keys?${query}`, {}), {
      responses: 1,
    });
    expect(ex.responses).toHaveLength(1);
    expectRestError(ex.responses[0] as never);
  });

  it("refuses a 256 KiB query string", async () => {
    const query = `a=${"x".repeat(256 * 1024)}`;
    const ex = await rawHttp1(gw.port, rawRequest("GET", `${apiPrefix}/keys?${query}`, {}));
    expectRefused(ex);
  });

  it("keeps serving, with bounded memory, while 40 connections send 1 MiB of header bytes each", async () => {
    const rss = sampleRss(gw);
    const results = await underAttack(gw, () =>
      Promise.all(
        Array.from({ length: 40 }, () =>
          rawHttp1(gw.port, (socket) => {
            socket.write(`GET ${apiPrefix}/status HTTP/1.1\r\nHost: 127.0.0.1\r\n`);
            // Header lines that never end: the parser must cut them off at its limit.
            for (let i = 0; i < 16; i++) socket.write(`x-pad-${i}: ${"p".repeat(64 * 1024)}\r\n`);
          }),
        ),
      ),
    );
    expectRssGrowthBelow(rss.stop(), 16 * MiB);
    for (const ex of results) expectRefused(ex);
  });
});

describe("chunked encoding", () => {
  it.each([
    ["a chunk size that is not hex", "zz\r\nabc\r\n0\r\n\r\n"],
    ["a chunk size that overflows 64 bits", "fffffffffffffffff1\r\nabc\r\n0\r\n\r\n"],
    ["chunk data longer than its size", "3\r\nabcdef\r\n0\r\n\r\n"],
    ["a negative chunk size", "-3\r\nabc\r\n0\r\n\r\n"],
  ])("refuses %s and closes", async (_, body) => {
    const ex = await rawHttp1(
      gw.port,
      rawRequest(
        "POST",
        `${apiPrefix}/generate-data-key`,
        { "content-type": "application/json", "transfer-encoding": "chunked" },
        body,
      ),
    );
    expectRefused(ex, { jsonWhenAnswered: true });
    expect(ex.closedByServer).toBe(true);
  });
});

describe("request smuggling", () => {
  // Each request hides "GET /health" where one reading of the framing sees a
  // body and another sees a second request. The gateway must refuse the
  // ambiguous request and close, so /health is never answered.
  it.each([
    [
      "CL.TE (Content-Length first, then Transfer-Encoding: chunked)",
      `${post} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`,
    ],
    [
      "TE.CL (Transfer-Encoding: chunked first, then Content-Length)",
      `${post} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n0\r\n\r\n${smuggled}`,
    ],
    [
      "two different Content-Length headers",
      `${post} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nContent-Length: ${smuggled.length}\r\n\r\n${smuggled}`,
    ],
    [
      "a Content-Length list",
      `${post} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0, ${smuggled.length}\r\n\r\n${smuggled}`,
    ],
    [
      "an obs-folded Transfer-Encoding",
      `${post} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${smuggled.length}\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n${smuggled}`,
    ],
    [
      "an obs-folded header line",
      `${post} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Folded: a\r\n b\r\nContent-Length: 0\r\n\r\n`,
    ],
    [
      "Transfer-Encoding with a space before the colon",
      `${post} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding : chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n${smuggled}`,
    ],
    [
      "Transfer-Encoding: chunked, identity",
      `${post} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${smuggled}`,
    ],
    [
      "Transfer-Encoding: xchunked",
      `${post} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: xchunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n${smuggled}`,
    ],
    ["bare LF line endings", `${post} HTTP/1.1\nHost: 127.0.0.1\nContent-Length: 0\n\n${smuggled}`],
    [
      "a NUL byte in a header value",
      `${post} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Nul: a\u0000b\r\nContent-Length: 0\r\n\r\n${smuggled}`,
    ],
  ])("refuses %s without answering the hidden request", async (_, bytes) => {
    const ex = await rawHttp1(gw.port, Buffer.from(bytes, "latin1"));
    expectRefused(ex, { jsonWhenAnswered: true });
    // The hidden GET /health would be the only 200 on this connection.
    expect(ex.responses.map((r) => r.status)).not.toContain(200);
    expect(ex.responses.length).toBeLessThanOrEqual(1);
  });
});

describe("slowloris", () => {
  it("keeps serving while 30 connections trickle their headers, then answers each completed request with a JSON 401", async () => {
    const rss = sampleRss(gw);
    const results = await underAttack(
      gw,
      () =>
        Promise.all(
          Array.from({ length: 30 }, (_, n) =>
            rawHttp1(
              gw.port,
              async (socket) => {
                socket.write(`GET ${apiPrefix}/status HTTP/1.1\r\nHost: 127.0.0.1\r\n`);
                // One header line every 150 ms for 1.5 s, then the end of the head.
                for (let i = 0; i < 10 && !socket.destroyed; i++) {
                  await delay(150);
                  socket.write(`x-slow-${n}-${i}: ${"s".repeat(8)}\r\n`);
                }
                if (!socket.destroyed) socket.write("\r\n");
              },
              { waitMs: 5000, responses: 1 },
            ),
          ),
        ),
      500,
    );
    expectRssGrowthBelow(rss.stop(), 16 * MiB);
    for (const ex of results) {
      expectRefused(ex, { jsonWhenAnswered: true });
    }
  });
});

it("is still alive, serves signed requests and logged no error", async () => {
  await expectAliveAndQuiet(gw);
});
