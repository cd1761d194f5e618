import { describe, expect, it } from "vitest";
import { parseAmzDate } from "../../src/auth/parse-sigv4-auth.js";
import { type SigV4Request, verifySigV4 } from "../../src/auth/verify-sigv4.js";
import {
  presignWithSmithy,
  SECRET_KEY,
  SIGNED_AT,
  signWithSmithy,
  smithyStore,
} from "./sign-with-smithy.js";

const at = (offsetMs: number) => new Date(SIGNED_AT.getTime() + offsetMs);
const verify = (req: SigV4Request, now = SIGNED_AT) => verifySigV4(req, smithyStore, { now });
const MIN = 60_000;

const BODY = '{"key_id":"k1","encryption_context":{"bucket":"b"}}';
const signedPost = () =>
  signWithSmithy({
    method: "POST",
    path: "/rustfs/admin/v3/kms/keys/my%20key",
    query: { limit: "10", marker: "m" },
    headers: { "content-type": "application/json", "x-custom": "one" },
    body: BODY,
  });

function expectFailure(result: ReturnType<typeof verifySigV4>, reason: string): void {
  expect(result).toEqual({ ok: false, reason });
  // Reasons are safe to show: no secret, no hex signature or hash, no canonical request.
  if (!result.ok) {
    expect(result.reason).not.toContain(SECRET_KEY);
    expect(result.reason).not.toMatch(/[0-9a-f]{16}/);
    expect(result.reason).not.toContain("\n");
  }
}

describe("verifySigV4 rejects tampering", () => {
  it("passes untampered", async () => {
    expect(verify(await signedPost()).ok).toBe(true);
  });

  const tamperings: Array<[string, (r: SigV4Request) => SigV4Request, string]> = [
    ["method", (r) => ({ ...r, method: "PUT" }), "signature does not match"],
    [
      "path",
      (r) => ({ ...r, rawPath: r.rawPath.replace("key", "kex") }),
      "signature does not match",
    ],
    [
      "query value",
      (r) => ({ ...r, rawQuery: r.rawQuery.replace("10", "11") }),
      "signature does not match",
    ],
    [
      "added query",
      (r) => ({ ...r, rawQuery: `${r.rawQuery}&extra=1` }),
      "signature does not match",
    ],
    [
      "signed header value",
      (r) => ({ ...r, headers: { ...r.headers, "x-custom": "two" } }),
      "signature does not match",
    ],
    [
      "host",
      (r) => ({ ...r, headers: { ...r.headers, host: "127.0.0.1:9001" } }),
      "signature does not match",
    ],
    [
      "body byte",
      (r) => {
        const body = Buffer.from(r.body as Uint8Array);
        body[3] = (body[3] as number) ^ 1;
        return { ...r, body };
      },
      "payload hash does not match body",
    ],
    [
      "x-amz-date by one second",
      (r) => ({ ...r, headers: { ...r.headers, "x-amz-date": "20240918T071043Z" } }),
      "signature does not match",
    ],
    [
      "signature",
      (r) => {
        const auth = r.headers.authorization as string;
        const last = auth.at(-1) === "0" ? "1" : "0";
        return { ...r, headers: { ...r.headers, authorization: auth.slice(0, -1) + last } };
      },
      "signature does not match",
    ],
    [
      "signed header removed",
      (r) => {
        const { "x-custom": _removed, ...headers } = r.headers;
        return { ...r, headers };
      },
      "a signed header is missing from the request",
    ],
    [
      "scope date",
      (r) => ({
        ...r,
        headers: {
          ...r.headers,
          authorization: (r.headers.authorization as string).replace("/20240918/", "/20240917/"),
        },
      }),
      "credential date does not match x-amz-date",
    ],
  ];

  it.each(tamperings)("fails when the %s changes", async (_name, tamper, reason) => {
    expectFailure(verify(tamper(await signedPost())), reason);
  });

  it("fails with another secret", async () => {
    const req = await signWithSmithy({ secretKey: "not-the-secret" });
    expectFailure(verify(req), "signature does not match");
  });

  it("fails for an unknown access key exactly as for a wrong secret", async () => {
    const req = await signWithSmithy({ accessKey: "AKIDUNKNOWN" });
    expectFailure(verify(req), "signature does not match");
  });
});

describe("verifySigV4 time checks", () => {
  it.each([14, -14])("accepts a skew of %i minutes", async (minutes) => {
    expect(verify(await signedPost(), at(minutes * MIN)).ok).toBe(true);
  });

  it.each([16, -16])("rejects a skew of %i minutes", async (minutes) => {
    expectFailure(verify(await signedPost(), at(minutes * MIN)), "request time too skewed");
  });

  it("honours maxSkewMs", async () => {
    const req = await signedPost();
    expect(verifySigV4(req, smithyStore, { now: at(2 * MIN), maxSkewMs: MIN }).ok).toBe(false);
  });

  it("accepts a presigned URL until it expires", async () => {
    const req = await presignWithSmithy({ path: "/rustfs/admin/v3/kms/status" }, 60);
    expect(verify(req, at(59_000)).ok).toBe(true);
    expect(verify(req, at(60_000)).ok).toBe(true);
    expectFailure(verify(req, at(61_000)), "presigned URL expired");
    expectFailure(verify(req, at(-16 * MIN)), "request time too skewed");
  });

  it("rejects X-Amz-Expires over a week", async () => {
    const req = await presignWithSmithy({}, 604_800);
    expect(verify(req).ok).toBe(true);
    const longer = {
      ...req,
      rawQuery: req.rawQuery.replace("X-Amz-Expires=604800", "X-Amz-Expires=604801"),
    };
    expectFailure(verify(longer), "invalid presigned URL expiry");
  });

  it("rejects a tampered presigned query", async () => {
    const req = await presignWithSmithy({ query: { keyId: "a" } });
    expectFailure(
      verify({ ...req, rawQuery: req.rawQuery.replace("keyId=a", "keyId=b") }),
      "signature does not match",
    );
  });

  it("rejects a malformed x-amz-date", async () => {
    const req = await signedPost();
    const headers = { ...req.headers, "x-amz-date": "20240918T251042Z" };
    expectFailure(verify({ ...req, headers }), "malformed x-amz-date");
    const { "x-amz-date": _d, ...noDate } = req.headers;
    expectFailure(verify({ ...req, headers: noDate }), "missing x-amz-date");
  });
});

describe("verifySigV4 request checks", () => {
  it("requires host among the signed headers", async () => {
    // Signed honestly by smithy, but without a host header at all.
    const req = await signWithSmithy({ headers: { host: undefined as unknown as string } });
    expect(req.headers.authorization).toContain("SignedHeaders=x-amz-content-sha256;x-amz-date,");
    expectFailure(
      verify({ ...req, headers: { ...req.headers, host: "127.0.0.1:9000" } }),
      "host header must be signed",
    );
  });

  it("treats a signed header named like an Object.prototype member as missing", async () => {
    const req = await signedPost();
    for (const name of ["constructor", "__proto__"]) {
      const authorization = (req.headers.authorization as string).replace(
        "SignedHeaders=",
        `SignedHeaders=${name};`,
      );
      expectFailure(
        verify({ ...req, headers: { ...req.headers, authorization } }),
        "a signed header is missing from the request",
      );
    }
  });

  it("rejects an unsigned request", () => {
    const req = { method: "GET", rawPath: "/", rawQuery: "", headers: { host: "h" }, body: null };
    expectFailure(verify(req), "authentication required");
  });

  it("rejects other algorithms and malformed headers", async () => {
    const req = await signedPost();
    const auth = req.headers.authorization as string;
    const withAuth = (authorization: string) => ({
      ...req,
      headers: { ...req.headers, authorization },
    });
    expectFailure(
      verify(withAuth("AWS AKIDEXAMPLE:c2lnbmF0dXJl")),
      "unsupported signature algorithm",
    );
    expectFailure(
      verify(withAuth(auth.replace("AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256"))),
      "unsupported signature algorithm",
    );
    expectFailure(
      verify(withAuth(auth.replace("Signature=", "Sig="))),
      "malformed authorization header",
    );
    expectFailure(
      verify(withAuth(auth.replace("/aws4_request", "/aws5_request"))),
      "malformed authorization header",
    );
    expectFailure(verify(withAuth(`${auth}, Signature=00`)), "malformed authorization header");
    expectFailure(
      verify(withAuth(auth.replace(/Signature=\w+/, "Signature=abc"))),
      "malformed authorization header",
    );
  });

  it("rejects both a header and a presigned signature", async () => {
    const presigned = await presignWithSmithy({});
    const header = await signWithSmithy({});
    expectFailure(
      verify({
        ...presigned,
        headers: { ...presigned.headers, authorization: header.headers.authorization },
      }),
      "multiple authentication methods",
    );
  });

  it("refuses streaming payload signatures", async () => {
    const req = await signWithSmithy({
      method: "PUT",
      headers: { "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" },
    });
    expectFailure(verify(req), "streaming payload signatures are not supported");
  });

  it("needs the body to check a declared payload hash", async () => {
    const req = await signedPost();
    expectFailure(
      verify({ ...req, body: null }),
      "request body not available to check the payload hash",
    );
  });

  it("rejects a malformed x-amz-content-sha256", async () => {
    const req = await signWithSmithy({ headers: { "x-amz-content-sha256": "abc" } });
    expectFailure(verify(req), "malformed x-amz-content-sha256");
  });

  it("bounds the number of query parameters", async () => {
    const req = await signWithSmithy({});
    const rawQuery = Array.from({ length: 1001 }, (_, i) => `p${i}=1`).join("&");
    expectFailure(verify({ ...req, rawQuery }), "too many query parameters");
  });
});

describe("parseAmzDate", () => {
  it("parses valid dates and rejects impossible ones", () => {
    expect(parseAmzDate("20240918T071042Z")).toBe(Date.UTC(2024, 8, 18, 7, 10, 42));
    expect(parseAmzDate("20240229T000000Z")).toBe(Date.UTC(2024, 1, 29));
    expect(parseAmzDate("20000229T235959Z")).toBe(Date.UTC(2000, 1, 29, 23, 59, 59));
    for (const bad of [
      "20230229T000000Z",
      "19000229T000000Z",
      "20241301T000000Z",
      "20240001T000000Z",
      "20240431T000000Z",
      "20240918T240000Z",
      "20240918T076000Z",
      "20240918T071042",
      "2024-09-18T07:10:42Z",
    ]) {
      expect(parseAmzDate(bad)).toBeUndefined();
    }
  });
});
