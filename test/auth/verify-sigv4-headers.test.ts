import { describe, expect, it } from "vitest";
import {
  checkBodySha256,
  type SigV4HeaderResult,
  type SigV4Request,
  verifySigV4Headers,
} from "../../src/auth/verify-sigv4.js";
import { presignWithSmithy, SIGNED_AT, signWithSmithy, smithyStore } from "./sign-with-smithy.js";

// The header phase decides a signature before a byte of the body is read whenever the
// request declares its payload hash, so the edge can refuse forged requests unread.

const headerPhase = ({ body: _, ...req }: SigV4Request): SigV4HeaderResult =>
  verifySigV4Headers(req, smithyStore, { now: SIGNED_AT });
const body = '{"key_id":"k1","encryption_context":{"bucket":"b"}}';
const post = (extra: { applyChecksum?: boolean; headers?: Record<string, string> } = {}) =>
  signWithSmithy({
    method: "POST",
    path: "/rustfs/admin/v3/kms/generate-data-key",
    headers: { "content-type": "application/json", ...extra.headers },
    body,
    applyChecksum: extra.applyChecksum,
  });

function forge(req: SigV4Request): SigV4Request {
  const auth = req.headers.authorization as string;
  const last = auth.at(-1) === "0" ? "1" : "0";
  return { ...req, headers: { ...req.headers, authorization: auth.slice(0, -1) + last } };
}

describe("verifySigV4Headers with a declared hex hash", () => {
  it("verifies the signature without the body and asks for the body to match the hash", async () => {
    const req = await post();
    const result = headerPhase(req);
    expect(result).toMatchObject({ ok: true, bodySha256: req.headers["x-amz-content-sha256"] });
    if (result.ok !== true || result.bodySha256 === null) throw new Error("unexpected");
    expect(checkBodySha256(result.bodySha256, req.body as Uint8Array)).toBeUndefined();
    expect(checkBodySha256(result.bodySha256, Buffer.from(`${body} `))).toEqual({
      ok: false,
      reason: "payload hash does not match body",
    });
  });

  it("refuses a forged signature before the body", async () => {
    expect(headerPhase(forge(await post()))).toEqual({
      ok: false,
      reason: "signature does not match",
    });
  });

  it("refuses a malformed or streaming payload hash", async () => {
    const req = await post();
    for (const [value, reason] of [
      ["abc", "malformed x-amz-content-sha256"],
      ["STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "streaming payload signatures are not supported"],
    ] as const) {
      expect(
        headerPhase({ ...req, headers: { ...req.headers, "x-amz-content-sha256": value } }),
      ).toEqual({ ok: false, reason });
    }
  });
});

describe("verifySigV4Headers with UNSIGNED-PAYLOAD or a presigned URL", () => {
  it("decides UNSIGNED-PAYLOAD from the headers alone", async () => {
    const req = await post({ headers: { "x-amz-content-sha256": "UNSIGNED-PAYLOAD" } });
    expect(headerPhase(req)).toMatchObject({ ok: true, bodySha256: null });
    expect(headerPhase(forge(req))).toEqual({ ok: false, reason: "signature does not match" });
  });

  it("decides a presigned URL that signs UNSIGNED-PAYLOAD (as S3 presigners do) from the URL alone", async () => {
    const req = await presignWithSmithy({
      path: "/rustfs/admin/v3/kms/status",
      headers: { "x-amz-content-sha256": "UNSIGNED-PAYLOAD" },
    });
    const { "x-amz-content-sha256": _, ...withoutHeader } = req.headers;
    expect(headerPhase({ ...req, headers: withoutHeader })).toMatchObject({
      ok: true,
      bodySha256: null,
    });
  });

  it("needs the body for a presigned URL that signed its body's hash", async () => {
    const req = await presignWithSmithy({ path: "/rustfs/admin/v3/kms/status" });
    const result = headerPhase(req);
    if (result.ok !== "needs-body") throw new Error(`expected needs-body, got ${result.ok}`);
    expect(result.finish(new Uint8Array(0))).toMatchObject({ ok: true });
  });
});

describe("verifySigV4Headers without a declared hash (curl --aws-sigv4)", () => {
  it("needs the body, and then checks the signature against its hash", async () => {
    const req = await post({ applyChecksum: false });
    expect(req.headers["x-amz-content-sha256"]).toBeUndefined();
    const result = headerPhase(req);
    if (result.ok !== "needs-body") throw new Error(`expected needs-body, got ${result.ok}`);
    expect(result.finish(Buffer.from(body))).toMatchObject({ ok: true });
    expect(result.finish(Buffer.from(body.replace("k1", "k2")))).toEqual({
      ok: false,
      reason: "signature does not match",
    });
  });

  it("still refuses what the headers alone condemn: skew, missing signed headers", async () => {
    const req = await post({ applyChecksum: false });
    expect(
      verifySigV4Headers(req, smithyStore, { now: new Date(SIGNED_AT.getTime() + 16 * 60_000) }),
    ).toEqual({ ok: false, reason: "request time too skewed" });
    const { "content-type": _, ...headers } = req.headers;
    expect(headerPhase({ ...req, headers })).toEqual({
      ok: false,
      reason: "a signed header is missing from the request",
    });
  });
});
