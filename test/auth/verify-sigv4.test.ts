import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createStaticCredentialStore } from "../../src/auth/credential-store.js";
import { createRootIdentity } from "../../src/auth/identity.js";
import { type SigV4Request, verifySigV4 } from "../../src/auth/verify-sigv4.js";
import {
  ACCESS_KEY,
  presignWithSmithy,
  SIGNED_AT,
  type SmithyInput,
  signStringWithSmithy,
  signWithSmithy,
  smithyStore,
} from "./sign-with-smithy.js";

const verify = (req: SigV4Request) => verifySigV4(req, smithyStore, { now: SIGNED_AT });

// Wire paths (already percent-encoded, as a client sends them).
const paths = {
  root: "/",
  plain: "/rustfs/admin/v3/kms/keys",
  space: "/rustfs/admin/v3/kms/keys/my%20key",
  unicode: "/kms/caf%C3%A9/%E1%88%B4",
  encodedSlash: "/kms/keys/a%2Fb/c",
  encodedPlus: "/kms/a%2Bb",
  rawPlus: "/kms/a+b",
  tilde: "/kms/~user/x~y",
  encodedTilde: "/kms/%7Euser",
  reservedEncoded: "/kms/a%3Ab%40c%21%24%26%27%28%29%2A%2C%3B%3D",
  reservedRaw: "/kms/a:b@c!$&'()*,;=",
  trailingSlash: "/kms/keys/",
};

const queries: Record<string, SmithyInput["query"]> = {
  none: {},
  repeated: { key: ["b", "a", "c"] },
  emptyValue: { empty: "", other: "x" },
  needsEncoding: { "key with space": "v/1?&=", ü: "ö", "a+b": "1+1" },
  unsorted: { zeta: "1", alpha: "2", Mid: "3", _u: "4", "~t": "5" },
  reservedValue: { v: "!'()*;:@$,/~" },
};

const signers = [
  { service: "s3", region: "us-east-1", uriEscapePath: false },
  { service: "s3", region: "eu-west-3", uriEscapePath: false },
  { service: "execute-api", region: "us-east-1", uriEscapePath: true },
  { service: "execute-api", region: "ap-southeast-2", uriEscapePath: true },
];

describe("verifySigV4 against @smithy/signature-v4", () => {
  for (const s of signers) {
    const label = `${s.service}/${s.region}`;

    it.each(Object.entries(paths))(`${label}: path %s`, async (_name, path) => {
      const req = await signWithSmithy({ ...s, path });
      expect(verify(req)).toEqual({
        ok: true,
        identity: createRootIdentity(ACCESS_KEY),
      });
    });

    it.each(Object.entries(queries))(`${label}: query %s`, async (_name, query) => {
      const req = await signWithSmithy({ ...s, path: paths.space, query });
      expect(verify(req).ok).toBe(true);
    });

    it(`${label}: headers with folded whitespace and repeated values`, async () => {
      const req = await signWithSmithy({
        ...s,
        headers: { "x-custom": "  a   b \t c  ", "x-multi": "v1,v2", "content-type": "text/plain" },
      });
      expect(req.headers["x-custom"]).toBe("  a   b \t c  ");
      expect(verify(req).ok).toBe(true);
      // Node hands repeated headers over as an array; they are joined with ",".
      expect(verify({ ...req, headers: { ...req.headers, "x-multi": ["v1", "  v2 "] } }).ok).toBe(
        true,
      );
    });

    it(`${label}: POST with a JSON body and x-amz-content-sha256`, async () => {
      const body = JSON.stringify({ key_id: "k1", plaintext: "aGVsbG8=", ctx: { a: "é" } });
      const req = await signWithSmithy({
        ...s,
        method: "POST",
        path: "/rustfs/admin/v3/kms/generate-data-key",
        query: { keyId: "k1" },
        headers: { "content-type": "application/json" },
        body,
      });
      expect(req.headers["x-amz-content-sha256"]).toMatch(/^[0-9a-f]{64}$/);
      expect(verify(req).ok).toBe(true);
    });

    it(`${label}: presigned via presign()`, async () => {
      const req = await presignWithSmithy({
        ...s,
        path: paths.unicode,
        query: queries.needsEncoding,
      });
      expect(req.rawQuery).toContain("X-Amz-Signature=");
      expect(req.headers.authorization).toBeUndefined();
      expect(verify(req).ok).toBe(true);
    });
  }

  it("accepts a literal + in the query whether the client meant a plus or a space", async () => {
    const plus = await signWithSmithy({ query: { q: "a+b" } });
    expect(verify({ ...plus, rawQuery: "q=a+b" }).ok).toBe(true);
    const space = await signWithSmithy({ query: { q: "a b" } });
    expect(verify({ ...space, rawQuery: "q=a+b" }).ok).toBe(true);
  });

  it("accepts a query sent with different but equivalent percent-encoding", async () => {
    const req = await signWithSmithy({ query: { "a~b": "x y", c: "é" } });
    expect(verify({ ...req, rawQuery: "c=%c3%a9&a%7Eb=x%20y" }).ok).toBe(true);
  });

  it("reads host from :authority over HTTP/2", async () => {
    const req = await signWithSmithy({ path: paths.plain });
    const { host, ...rest } = req.headers;
    expect(verify({ ...req, headers: { ...rest, ":authority": host } }).ok).toBe(true);
    expect(verify({ ...req, headers: rest }).ok).toBe(false);
  });

  it("accepts UNSIGNED-PAYLOAD without a buffered body", async () => {
    const req = await signWithSmithy({
      method: "POST",
      headers: { "x-amz-content-sha256": "UNSIGNED-PAYLOAD" },
      body: "{}",
    });
    expect(verify({ ...req, body: null }).ok).toBe(true);
  });

  it("honours configured region and service", async () => {
    const req = await signWithSmithy({ service: "s3", region: "us-east-1" });
    const ok = verifySigV4(req, smithyStore, {
      now: SIGNED_AT,
      region: "us-east-1",
      service: "s3",
    });
    expect(ok.ok).toBe(true);
    expect(verifySigV4(req, smithyStore, { now: SIGNED_AT, region: "eu-west-1" })).toEqual({
      ok: false,
      reason: "credential scope does not match this server",
    });
    expect(verifySigV4(req, smithyStore, { now: SIGNED_AT, service: "kms" }).ok).toBe(false);
  });
});

describe("verifySigV4 like curl --aws-sigv4 (no x-amz-content-sha256)", () => {
  const body = '{"key_usage":"ENCRYPT_DECRYPT","description":"curl"}';
  const curlLike = () =>
    signWithSmithy({
      method: "POST",
      path: "/rustfs/admin/v3/kms/keys",
      headers: { "content-type": "application/json" },
      body,
      applyChecksum: false,
    });

  it("hashes the body itself", async () => {
    const req = await curlLike();
    expect(req.headers["x-amz-content-sha256"]).toBeUndefined();
    expect(verify(req).ok).toBe(true);
  });

  it("fails when the body was changed", async () => {
    const req = await curlLike();
    const tampered = Buffer.from(body.replace("curl", "curL"));
    expect(verify({ ...req, body: tampered })).toEqual({
      ok: false,
      reason: "signature does not match",
    });
  });

  it("fails when the body is not available", async () => {
    const req = await curlLike();
    expect(verify({ ...req, body: null })).toEqual({
      ok: false,
      reason: "request body not available to check the payload hash",
    });
  });
});

describe("verifySigV4 with AWS's published examples", () => {
  const suiteStore = createStaticCredentialStore([
    {
      identity: { name: "example", accessKey: "AKIDEXAMPLE", root: false },
      secretKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    },
  ]);
  const now = new Date("2015-08-30T12:36:00Z");
  const auth = (service: string, signed: string, signature: string) =>
    `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/${service}/aws4_request, SignedHeaders=${signed}, Signature=${signature}`;
  const base = { host: "example.amazonaws.com", "x-amz-date": "20150830T123600Z" };
  const empty = new Uint8Array(0);

  const cases: Array<[string, SigV4Request]> = [
    [
      "get-vanilla",
      {
        method: "GET",
        rawPath: "/",
        rawQuery: "",
        headers: {
          ...base,
          authorization: auth(
            "service",
            "host;x-amz-date",
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
          ),
        },
        body: empty,
      },
    ],
    [
      "get-vanilla-query-order-key-case",
      {
        method: "GET",
        rawPath: "/",
        rawQuery: "Param2=value2&Param1=value1",
        headers: {
          ...base,
          authorization: auth(
            "service",
            "host;x-amz-date",
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
          ),
        },
        body: empty,
      },
    ],
    [
      "get-header-value-trim",
      {
        method: "GET",
        rawPath: "/",
        rawQuery: "",
        headers: {
          ...base,
          "my-header1": " value1",
          "my-header2": ' "a   b   c"',
          authorization: auth(
            "service",
            "host;my-header1;my-header2;x-amz-date",
            "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
          ),
        },
        body: empty,
      },
    ],
    [
      "post-x-www-form-urlencoded",
      {
        method: "POST",
        rawPath: "/",
        rawQuery: "",
        headers: {
          ...base,
          "content-type": "application/x-www-form-urlencoded",
          authorization: auth(
            "service",
            "content-type;host;x-amz-date",
            "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
          ),
        },
        body: Buffer.from("Param1=value1"),
      },
    ],
    [
      "IAM ListUsers (signing documentation example)",
      {
        method: "GET",
        rawPath: "/",
        rawQuery: "Action=ListUsers&Version=2010-05-08",
        headers: {
          host: "iam.amazonaws.com",
          "content-type": "application/x-www-form-urlencoded; charset=utf-8",
          "x-amz-date": "20150830T123600Z",
          authorization: auth(
            "iam",
            "content-type;host;x-amz-date",
            "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
          ),
        },
        body: empty,
      },
    ],
  ];

  it.each(cases)("%s", (_name, req) => {
    expect(verifySigV4(req, suiteStore, { now })).toMatchObject({
      ok: true,
      identity: { accessKey: "AKIDEXAMPLE" },
    });
    expect(verifySigV4({ ...req, method: "PUT" }, suiteStore, { now }).ok).toBe(false);
  });
});

describe("verifySigV4 like curl 7.88 (path and query signed as written)", () => {
  it("accepts a query signed unsorted, exactly as sent", async () => {
    // What curl 7.88 signs, written out by hand; smithy derives the key and signs it.
    const amzDate = "20240918T071042Z";
    const canonical = [
      "GET",
      "/rustfs/admin/v3/kms/keys",
      "marker=k%2D1&limit=10",
      "host:127.0.0.1:9000",
      `x-amz-date:${amzDate}`,
      "",
      "host;x-amz-date",
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    ].join("\n");
    const hash = createHash("sha256").update(canonical).digest("hex");
    const signature = await signStringWithSmithy(
      `AWS4-HMAC-SHA256\n${amzDate}\n20240918/us-east-1/s3/aws4_request\n${hash}`,
    );
    const req: SigV4Request = {
      method: "GET",
      rawPath: "/rustfs/admin/v3/kms/keys",
      rawQuery: "marker=k%2D1&limit=10",
      headers: {
        host: "127.0.0.1:9000",
        "x-amz-date": amzDate,
        authorization: `AWS4-HMAC-SHA256 Credential=${ACCESS_KEY}/20240918/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=${signature}`,
      },
      body: new Uint8Array(0),
    };
    expect(verify(req).ok).toBe(true);
    expect(verify({ ...req, rawQuery: "marker=k%2D1&limit=11" }).ok).toBe(false);
  });
});
