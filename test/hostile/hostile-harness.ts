import net from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { afterEach, beforeEach, expect } from "vitest";
import {
  type GatewayProcess,
  type GatewaySpawnOptions,
  type UseGatewayOptions,
  useGateway,
} from "../helpers/gateway-process.js";
import { signedFetch, testCredentials } from "../helpers/signed-fetch.js";
import { signRpc } from "../helpers/sigv4-headers.js";

// The shared harness of the hostile-client suite: one real gateway process per
// test file, raw HTTP/1.1 exchanges over node:net, a signed probe run during
// and after every attack, RSS sampling and the final log check. Every wait
// here has a deadline, so a server that hangs fails a case instead of the suite.

/** bodyTimeoutMs is the body deadline the hostile gateways run with (default 30 s). */
export const bodyTimeoutMs = 1000;
/** preauthBudgetBytes is the pre-authentication body budget they run with (default 16 MiB). */
export const preauthBudgetBytes = 4 * 1024 * 1024;
/** answerBoundMs is how long any case waits for an answer that must come "at once" or at the body deadline. */
export const answerBoundMs = bodyTimeoutMs + 2000;
/** apiPrefix is the REST admin prefix. */
export const apiPrefix = "/rustfs/admin/v3/kms";
/** MiB is 2^20 bytes. */
export const MiB = 1024 * 1024;

/**
 * hostileSpawnOptions start a gateway with a short body deadline and a small
 * pre-authentication budget, so timeouts and budgets are reached in test
 * time. They go through the environment (KMS_GATEWAY_BODY_TIMEOUT_MS,
 * KMS_GATEWAY_PREAUTH_BODY_BUDGET) rather than flags: a gateway that does not
 * know them yet still starts, so every case can show its "before" answer.
 */
const hostileSpawnOptions: GatewaySpawnOptions = {
  env: {
    KMS_GATEWAY_BODY_TIMEOUT_MS: String(bodyTimeoutMs),
    KMS_GATEWAY_PREAUTH_BODY_BUDGET: String(preauthBudgetBytes),
  },
};

/**
 * useHostileGateway registers, for the calling test file, a gateway started
 * with hostileSpawnOptions (useGateway) and, unless `freshPerCase`, guardEachCase.
 * A fresh gateway per case is for cases that measure RSS (it never shrinks
 * much once grown, so a case measured after another would see the earlier
 * case's memory reused); they check the gateway themselves (expectAliveAndQuiet).
 */
export function useHostileGateway(options: Omit<UseGatewayOptions, "spawn"> = {}): GatewayProcess {
  const gw = useGateway({ ...options, spawn: () => hostileSpawnOptions });
  if (!options.freshPerCase) guardEachCase(() => gw);
  return gw;
}

/** Http1Response is one response parsed from raw bytes. */
export interface Http1Response {
  status: number;
  /** Header names in lower case; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
}

/** RawExchange is what a raw connection saw: bytes, parsed responses, and how it ended. */
export interface RawExchange {
  raw: Buffer;
  responses: Http1Response[];
  /** The server closed (or reset) the connection before the wait ended. */
  closedByServer: boolean;
  /** The wait ended at its bound with the connection still open. */
  timedOut: boolean;
  elapsedMs: number;
}

/** RawOptions bound one raw exchange. */
export interface RawOptions {
  /** The longest the exchange may take (answerBoundMs by default). */
  waitMs?: number;
  /** Stop waiting as soon as this many responses are complete (the connection may stay open). */
  responses?: number;
}

/**
 * rawHttp1 connects to 127.0.0.1:port, lets `send` write byte-exact requests
 * (it may write slowly; it gets the socket), and collects what comes back
 * until the server closes, `responses` responses are complete, or `waitMs`
 * passes. The socket is always destroyed at the end.
 */
export function rawHttp1(
  port: number,
  send: Buffer | string | ((socket: net.Socket) => void | Promise<void>),
  options: RawOptions = {},
): Promise<RawExchange> {
  const waitMs = options.waitMs ?? answerBoundMs;
  const started = performance.now();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ host: "127.0.0.1", port });
    let done = false;
    const finish = (closedByServer: boolean, timedOut: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const raw = Buffer.concat(chunks);
      resolve({
        raw,
        responses: parseHttp1Responses(raw),
        closedByServer,
        timedOut,
        elapsedMs: performance.now() - started,
      });
    };
    const timer = setTimeout(() => finish(false, true), waitMs);
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      if (
        options.responses !== undefined &&
        parseHttp1Responses(Buffer.concat(chunks)).length >= options.responses
      ) {
        finish(false, false);
      }
    });
    // A reset (EPIPE/ECONNRESET while we still write) is a close by the server too.
    socket.on("error", () => finish(true, false));
    socket.on("close", () => finish(true, false));
    socket.on("connect", () => {
      if (typeof send === "function") {
        Promise.resolve(send(socket)).catch(() => {});
      } else {
        socket.write(send);
      }
    });
  });
}

/**
 * parseHttp1Responses parses every complete response in `raw` (bodies framed
 * by Content-Length or chunked; 1xx and bodiless ones included).
 */
export function parseHttp1Responses(raw: Buffer): Http1Response[] {
  const out: Http1Response[] = [];
  let at = 0;
  while (at < raw.length) {
    const headEnd = raw.indexOf("\r\n\r\n", at);
    if (headEnd < 0) break;
    const lines = raw.subarray(at, headEnd).toString("latin1").split("\r\n");
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? "")?.[1]);
    if (!Number.isInteger(status)) break;
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    let bodyStart = headEnd + 4;
    let body: Buffer;
    if (headers["transfer-encoding"]?.toLowerCase().includes("chunked")) {
      const parts: Buffer[] = [];
      let complete = false;
      while (bodyStart < raw.length) {
        const lineEnd = raw.indexOf("\r\n", bodyStart);
        if (lineEnd < 0) break;
        const size = Number.parseInt(raw.subarray(bodyStart, lineEnd).toString("latin1"), 16);
        if (!Number.isFinite(size) || lineEnd + 2 + size + 2 > raw.length) break;
        parts.push(raw.subarray(lineEnd + 2, lineEnd + 2 + size));
        bodyStart = lineEnd + 2 + size + 2;
        if (size === 0) {
          complete = true;
          break;
        }
      }
      if (!complete) break;
      body = Buffer.concat(parts);
    } else {
      const length = Number(headers["content-length"] ?? 0);
      if (bodyStart + length > raw.length) break;
      body = raw.subarray(bodyStart, bodyStart + length);
      bodyStart += length;
    }
    out.push({ status, headers, body });
    at = bodyStart;
  }
  return out;
}

/**
 * expectRestError asserts a well-formed REST error: the given 4xx status (or
 * any 4xx when omitted), JSON content, and a `{code, message}` body of strings.
 * It returns the parsed body.
 */
export function expectRestError(
  res: { status: number; headers: Record<string, string> | Headers; body: Buffer | string },
  status?: number,
): { code: string; message: string } {
  const said = `answered ${res.status}: ${res.body.toString().slice(0, 200)}`;
  if (status === undefined) {
    expect(res.status, said).toBeGreaterThanOrEqual(400);
    expect(res.status, said).toBeLessThan(500);
  } else {
    expect(res.status, said).toBe(status);
  }
  const contentType =
    res.headers instanceof Headers ? res.headers.get("content-type") : res.headers["content-type"];
  expect(contentType ?? "").toMatch(/^application\/json/);
  const body = JSON.parse(res.body.toString()) as { code: unknown; message: unknown };
  expect(body).toEqual({ code: expect.any(String), message: expect.any(String) });
  return body as { code: string; message: string };
}

/**
 * expectRefused asserts a hostile HTTP/1.1 exchange ended well: the server
 * answered exactly one 4xx (never a 5xx) or closed the connection without an
 * answer, and did not leave it hanging. `jsonWhenAnswered` asks that an
 * answer the gateway wrote itself carries the REST error shape; refusals of
 * Node's HTTP parser (bare 400/431 before any handler runs) are exempt.
 */
export function expectRefused(ex: RawExchange, options: { jsonWhenAnswered?: boolean } = {}) {
  expect(ex.timedOut && ex.responses.length === 0, "the server neither answered nor closed").toBe(
    false,
  );
  for (const res of ex.responses) {
    expect(res.status, `answered ${res.status}: ${res.body.toString().slice(0, 200)}`).toBeLessThan(
      500,
    );
  }
  if (ex.responses.length > 0) {
    const first = ex.responses[0] as Http1Response;
    expect(first.status).toBeGreaterThanOrEqual(400);
    if (options.jsonWhenAnswered && first.body.length > 0) expectRestError(first);
  }
}

/** withDeadline rejects when `promise` has not settled within `ms`. */
export async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** signedStatus sends one signed `GET /kms/status` and asserts it is served (200) within 5 s. */
export async function expectSignedServed(gw: GatewayProcess): Promise<void> {
  const res = await withDeadline(
    signedFetch(gw.url, "GET", `${apiPrefix}/status`),
    5000,
    "signed GET /kms/status",
  );
  expect(res.status, `signed request answered ${res.status}: ${res.text}`).toBe(200);
}

/**
 * underAttack runs `attack`, sends one signed request while it is in flight
 * (after `probeAfterMs`) and one after it, and asserts both are served. It
 * returns the attack's result.
 */
export async function underAttack<T>(
  gw: GatewayProcess,
  attack: () => Promise<T>,
  probeAfterMs = 100,
): Promise<T> {
  const running = attack();
  // Keep an early rejection from being unhandled while the probe runs.
  running.catch(() => {});
  await delay(probeAfterMs);
  await expectSignedServed(gw);
  const result = await running;
  await expectSignedServed(gw);
  return result;
}

/**
 * RssSampler records the gateway's RSS before an attack and the highest value
 * seen while it runs (sampled every 50 ms), so memory pinned only until a
 * deadline frees it is still seen.
 */
export interface RssSampler {
  before: number;
  /** stop ends sampling and returns the growth of the peak over `before`, in bytes. */
  stop(): number;
}

/** sampleRss starts an RssSampler on a gateway process. */
export function sampleRss(gw: GatewayProcess): RssSampler {
  const before = gw.rssBytes();
  let peak = before;
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, gw.rssBytes());
    } catch {
      // the process is gone; the liveness check reports it
    }
  }, 50);
  return {
    before,
    stop() {
      clearInterval(timer);
      try {
        peak = Math.max(peak, gw.rssBytes());
      } catch {
        // as above
      }
      return peak - before;
    },
  };
}

/** expectRssGrowthBelow asserts a sampled growth stays under `bound` bytes, naming both in MiB. */
export function expectRssGrowthBelow(growth: number, bound: number): void {
  // Printed so a run shows the measured value, not only whether it passed.
  console.log(
    `RSS growth ${(growth / MiB).toFixed(1)} MiB (bound ${(bound / MiB).toFixed(0)} MiB)`,
  );
  // Soft, so that a case that also fails on its answer reports both.
  expect
    .soft(
      growth,
      `RSS grew ${(growth / MiB).toFixed(1)} MiB (bound ${(bound / MiB).toFixed(0)} MiB)`,
    )
    .toBeLessThan(bound);
}

/** logEntries parses JSON log lines; a line that is not JSON becomes an empty entry. */
export function logEntries(lines: string[]): Record<string, unknown>[] {
  return lines.map((line) => {
    try {
      return JSON.parse(line) as Record<string, unknown>;
    } catch {
      return {};
    }
  });
}

/** errorLines returns the error-level lines among `lines` (JSON log lines). */
export function errorLines(lines: string[]): string[] {
  return lines.filter((line) => {
    try {
      return (JSON.parse(line) as { level?: unknown }).level === "error";
    } catch {
      return false;
    }
  });
}

/**
 * guardEachCase registers, for the calling test file, a check after every
 * case: a signed request is still served, and the case made the gateway log
 * no error-level line (a hostile client is never the server's error).
 */
export function guardEachCase(gateway: () => GatewayProcess | undefined): void {
  let mark = 0;
  beforeEach(() => {
    mark = gateway()?.logLines.length ?? 0;
  });
  afterEach(async () => {
    const gw = gateway();
    if (gw === undefined) return;
    await expectSignedServed(gw);
    // The probe's own access line comes after the case's lines; give an
    // asynchronous log destination a moment to flush them.
    await delay(20);
    const errors = errorLines(gw.logLines.slice(mark));
    expect(errors, `error-level log lines:\n${errors.slice(0, 3).join("\n")}`).toEqual([]);
  });
}

/**
 * expectAliveAndQuiet asserts the gateway process still runs, still serves a
 * signed request, and logged no error-level line (a hostile client is never
 * the server's error).
 */
export async function expectAliveAndQuiet(gw: GatewayProcess): Promise<void> {
  expect(gw.child.exitCode).toBeNull();
  expect(gw.child.signalCode).toBeNull();
  await expectSignedServed(gw);
  const errors = errorLines(gw.logLines);
  expect(errors, errors.slice(0, 5).join("\n")).toEqual([]);
}

/**
 * curlStyleAuth returns headers of a plausible SigV4 request as curl
 * --aws-sigv4 sends it: an Authorization for the real access key and a
 * current date, the content-type it signs, but no x-amz-content-sha256, so
 * the gateway must read the body to hash it before it can tell the signature
 * is wrong.
 */
export function curlStyleAuth(): Record<string, string> {
  const amzDate = new Date()
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
  const day = amzDate.slice(0, 8);
  return {
    // Every header the signature names is present, so nothing but the body can refute it.
    "content-type": "application/json",
    "x-amz-date": amzDate,
    authorization: `AWS4-HMAC-SHA256 Credential=${testCredentials.accessKeyId}/${day}/us-east-1/s3/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=${"0".repeat(64)}`,
  };
}

/**
 * hashedBadAuth returns curlStyleAuth plus an x-amz-content-sha256 hash: the
 * signature over the headers can (and must) be checked before the body.
 */
export function hashedBadAuth(): Record<string, string> {
  return { ...curlStyleAuth(), "x-amz-content-sha256": "a".repeat(64) };
}

/**
 * rawRequest builds a byte-exact HTTP/1.1 request head (and body) with the
 * given headers in order; `host` is added first unless present.
 */
export function rawRequest(
  method: string,
  path: string,
  headers: Record<string, string> | [string, string][],
  body: Buffer | string = "",
): Buffer {
  const list = Array.isArray(headers) ? headers : Object.entries(headers);
  const hasHost = list.some(([name]) => name.toLowerCase() === "host");
  const head = [
    `${method} ${path} HTTP/1.1`,
    ...(hasHost ? [] : ["Host: 127.0.0.1"]),
    ...list.map(([name, value]) => `${name}: ${value}`),
    "",
    "",
  ].join("\r\n");
  return Buffer.concat([Buffer.from(head, "latin1"), Buffer.from(body)]);
}

/**
 * signedRawPost returns the headers that sign a POST to `path` with
 * UNSIGNED-PAYLOAD (tools/sigv4-headers.ts, the RPC signer), `host`
 * included, for raw requests whose body must be sent byte-exact (non-UTF-8,
 * malformed frames).
 */
export async function signedRawPost(
  gw: GatewayProcess,
  path: string,
): Promise<Record<string, string>> {
  const url = new URL(path, gw.url);
  return { host: url.host, ...(await signRpc(url.href)) };
}
