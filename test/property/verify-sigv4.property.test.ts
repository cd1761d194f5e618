import { createHash } from "node:crypto";
import aws4 from "aws4";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { HeaderValue } from "../../src/auth/canonical-request.js";
import { createRootIdentity } from "../../src/auth/identity.js";
import { type SigV4Request, verifySigV4 } from "../../src/auth/verify-sigv4.js";
import {
  ACCESS_KEY,
  presignWithSmithy,
  SECRET_KEY,
  SIGNED_AT,
  signWithSmithy,
  smithyStore,
} from "../auth/sign-with-smithy.js";
import { fuzzSettings, fuzzTestTimeoutMs } from "../helpers/fuzz-settings.js";
import { noise, PARSE_REASONS, wellFormedText, wirePathSegment } from "./wire-arbitraries.js";

// verifySigV4 end to end: requests signed by two independent signers over random paths,
// queries, headers and bodies verify; any change to what was signed fails; and arbitrary
// requests are refused with a short reason, never an exception.

const verify = (req: SigV4Request) => verifySigV4(req, smithyStore, { now: SIGNED_AT });

/** Every reason verifySigV4 may give: the parser's, then the verifier's own. */
const REASONS = new Set([
  ...PARSE_REASONS,
  "too many query parameters",
  "credential scope does not match this server",
  "request time too skewed",
  "presigned URL expired",
  "malformed x-amz-content-sha256",
  "streaming payload signatures are not supported",
  "request body not available to check the payload hash",
  "payload hash does not match body",
  "a signed header is missing from the request",
  "signature does not match",
]);

const method = fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD");
const scope = fc.constantFrom(
  { service: "s3", region: "us-east-1" },
  { service: "kms", region: "eu-west-3" },
  { service: "execute-api", region: "ap-southeast-2" },
);

/** A wire path; `normalizable` leaves out what double-encoding signers normalize away. */
const wirePath = (normalizable: boolean) =>
  fc
    .array(
      normalizable
        ? wirePathSegment.filter((s) => s !== "" && s !== "." && s !== "..")
        : wirePathSegment,
      { maxLength: 5 },
    )
    .map((segments) => `/${segments.join("/")}`);

/** Query keys and values; X-Amz-* names belong to presigning and are left out. */
const queryKey = wellFormedText(8).filter((k) => !k.toLowerCase().startsWith("x-amz-"));
const query = fc.dictionary(
  queryKey,
  fc.oneof(wellFormedText(8), fc.array(wellFormedText(6), { minLength: 1, maxLength: 3 })),
  { maxKeys: 4 },
);

/** Extra headers with printable ASCII values, spaces and tabs included. */
const headerName = fc
  .stringMatching(/^[a-z][a-z0-9-]{0,11}$/)
  .filter((n) => !n.startsWith("x-amz-") && n !== "host" && n !== "authorization");
const headers = fc.dictionary(
  headerName,
  fc.string({
    unit: fc.oneof(
      fc.constantFrom(" ", "\t"),
      fc
        .string({ unit: "binary-ascii", minLength: 1, maxLength: 1 })
        .filter((c) => /[\x21-\x7e]/.test(c)),
    ),
    maxLength: 16,
  }),
  { maxKeys: 4 },
);
const body = fc.uint8Array({ maxLength: 64 });

const smithyInput = fc
  .record({ scope, uriEscapePath: fc.boolean() })
  .chain(({ scope: s, uriEscapePath }) =>
    fc.record({
      ...{ service: fc.constant(s.service), region: fc.constant(s.region) },
      uriEscapePath: fc.constant(uriEscapePath),
      method,
      path: wirePath(uriEscapePath),
      query,
      headers,
      body,
      applyChecksum: fc.boolean(),
    }),
  );

/** A change that alters what the signature covers, for the tamper property. */
const tamper = fc.constantFrom("method", "path", "query", "header", "body", "date");
function tampered(req: SigV4Request, how: string): SigV4Request {
  switch (how) {
    case "method":
      return { ...req, method: req.method === "GET" ? "POST" : "GET" };
    case "path":
      return { ...req, rawPath: `${req.rawPath}/x` };
    case "query":
      return { ...req, rawQuery: req.rawQuery === "" ? "zz=1" : `${req.rawQuery}&zz=1` };
    case "header":
      return { ...req, headers: { ...req.headers, host: `${req.headers.host as string}0` } };
    case "body":
      return { ...req, body: Buffer.concat([req.body ?? new Uint8Array(0), Buffer.of(0x20)]) };
    default: {
      // The last digit of the seconds changed: still inside the skew window, so only the
      // signature can catch it.
      const date = req.headers["x-amz-date"] as string;
      return {
        ...req,
        headers: {
          ...req.headers,
          "x-amz-date": date.replace(/\dZ$/, (d) => `${(Number(d[0]) + 1) % 10}Z`),
        },
      };
    }
  }
}

describe("verifySigV4 end to end (property)", { timeout: fuzzTestTimeoutMs }, () => {
  it("verifies any request @smithy/signature-v4 signed in the Authorization header", async () => {
    await fc.assert(
      fc.asyncProperty(smithyInput, async (input) => {
        const req = await signWithSmithy(input);
        expect(verify(req)).toEqual({ ok: true, identity: createRootIdentity(ACCESS_KEY) });
      }),
      fuzzSettings(100),
    );
  });

  it("verifies any GET @smithy/signature-v4 presigned", async () => {
    await fc.assert(
      fc.asyncProperty(smithyInput, async (input) => {
        const req = await presignWithSmithy({ ...input, method: "GET", body: new Uint8Array(0) });
        expect(verify(req).ok).toBe(true);
      }),
      fuzzSettings(75),
    );
  });

  it("refuses any change to what was signed with 'signature does not match'", async () => {
    await fc.assert(
      fc.asyncProperty(smithyInput, tamper, async (input, how) => {
        const req = await signWithSmithy({ ...input, applyChecksum: false });
        expect(verify(tampered(req, how))).toEqual({
          ok: false,
          reason: "signature does not match",
        });
      }),
      fuzzSettings(75),
    );
  });

  it("verifies any request aws4 signed, in the Authorization header or presigned", () => {
    // aws4's own rules, not ours, bound what it can sign correctly: for s3 it signs only the
    // first value of a repeated query key, decodes `+` in the path as a space and
    // `%2F` as a slash, and decodeURIComponent()s the path; elsewhere it drops `.`/`..` and
    // empty segments; it leaves out query keys that are empty.
    const aws4Segment = (s3: boolean) =>
      wirePathSegment.filter((seg) => {
        if (s3) {
          if (seg.includes("+") || /%2f/i.test(seg)) return false;
          try {
            decodeURIComponent(seg);
          } catch {
            return false;
          }
          return true;
        }
        return seg !== "" && seg !== "." && seg !== "..";
      });
    const aws4Input = scope.chain((s) =>
      fc.record({
        scope: fc.constant(s),
        method,
        segments: fc.array(aws4Segment(s.service === "s3"), { maxLength: 5 }),
        query: fc.array(
          fc.tuple(
            queryKey.filter((k) => k !== ""),
            wellFormedText(8),
          ),
          { maxLength: 4 },
        ),
        headers,
        body,
        hashHeader: fc.boolean(),
        presign: fc.boolean(),
      }),
    );
    fc.assert(
      fc.property(aws4Input, (input) => {
        const s3 = input.scope.service === "s3";
        const pairs = s3
          ? input.query.filter(([k], i, all) => all.findIndex(([k2]) => k2 === k) === i)
          : input.query;
        const rawPath = `/${input.segments.join("/")}`;
        const rawQuery = pairs
          .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
          .join("&");
        const amzDate = SIGNED_AT.toISOString().replace(/[-:]|\.\d{3}/g, "");
        const bodyBuffer = Buffer.from(input.body);
        const requestHeaders: Record<string, string> = { ...input.headers, host: "127.0.0.1:9000" };
        // Presigned, the date and expiry travel in the query (aws4 keeps ours) and S3 signs
        // UNSIGNED-PAYLOAD, so a declared hash header would contradict it.
        const presignQuery = `X-Amz-Date=${amzDate}&X-Amz-Expires=600`;
        if (!input.presign) requestHeaders["x-amz-date"] = amzDate;
        if (input.hashHeader && !(input.presign && s3)) {
          requestHeaders["x-amz-content-sha256"] = createHash("sha256")
            .update(bodyBuffer)
            .digest("hex");
        }
        const query = [rawQuery, input.presign ? presignQuery : ""].filter(Boolean).join("&");
        const signed = aws4.sign(
          {
            method: input.method,
            host: "127.0.0.1:9000",
            path: query === "" ? rawPath : `${rawPath}?${query}`,
            headers: requestHeaders,
            body: bodyBuffer,
            service: input.scope.service,
            region: input.scope.region,
            signQuery: input.presign,
          },
          { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
        );
        const received: Record<string, HeaderValue> = {};
        for (const [k, v] of Object.entries(signed.headers ?? {})) {
          received[k.toLowerCase()] = String(v);
        }
        // aws4 rewrites the query when it presigns; send what it wrote.
        const target = signed.path ?? "";
        const q = target.indexOf("?");
        const result = verify({
          method: input.method,
          rawPath,
          rawQuery: q < 0 ? "" : target.slice(q + 1),
          headers: received,
          body: bodyBuffer,
        });
        expect(result.ok).toBe(true);
      }),
      fuzzSettings(200),
    );
  });

  it("refuses arbitrary requests with a known reason, never an exception", async () => {
    // Start from a valid signed request and overwrite parts of it with noise, so the
    // verifier gets past the parser as often as it does not.
    const headerNoise = fc.oneof(noise(60), fc.array(noise(20), { maxLength: 2 }));
    await fc.assert(
      fc.asyncProperty(
        smithyInput,
        fc.record(
          {
            method: noise(8),
            rawPath: fc.oneof(noise(60), wirePath(false)),
            rawQuery: noise(80),
            authorization: headerNoise,
            "x-amz-date": headerNoise,
            "x-amz-content-sha256": headerNoise,
            host: headerNoise,
            body: fc.oneof(fc.constant(null), fc.uint8Array({ maxLength: 16 })),
          },
          { requiredKeys: [] },
        ),
        async (input, overwrite) => {
          const req = await signWithSmithy(input);
          const { method: m, rawPath, rawQuery, body: b, ...hs } = overwrite;
          const mixed: SigV4Request = {
            method: m ?? req.method,
            rawPath: rawPath ?? req.rawPath,
            rawQuery: rawQuery ?? req.rawQuery,
            headers: { ...req.headers, ...hs },
            body: b === undefined ? req.body : b,
          };
          const result = verify(mixed);
          if (!result.ok) expect(REASONS.has(result.reason), result.reason).toBe(true);
        },
      ),
      fuzzSettings(200),
    );
  });
});
