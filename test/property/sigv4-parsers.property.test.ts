import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  canonicalHeaders,
  canonicalHeaderValue,
  canonicalQuery,
  canonicalUris,
  type HeaderValue,
  splitQuery,
} from "../../src/auth/canonical-request.js";
import { parseAmzDate, parseSigV4Auth } from "../../src/auth/parse-sigv4-auth.js";
import { encodeRfc3986, percentDecode } from "../../src/auth/percent-encoding.js";
import { expectFast, fuzzSettings, fuzzTestTimeoutMs } from "../helpers/fuzz-settings.js";
import {
  noise,
  PARSE_REASONS,
  unreservedChar,
  wellFormedText,
  wirePathSegment,
} from "./wire-arbitraries.js";

// The SigV4 parsers read bytes an unauthenticated caller chooses. Each must answer (a value,
// undefined, or a short reason), never throw, and agree with an independent reading.

const RFC3986_ENCODED = /^(?:[A-Za-z0-9\-._~]|%[0-9A-F]{2})*$/;
const MALFORMED_ESCAPE = /%(?![0-9A-Fa-f]{2})/;

const headerName = fc.stringMatching(/^[a-z0-9-]{1,12}$/);
/**
 * Header values as Node hands them over: spaces, tabs, visible ASCII and obs-text (bytes
 * 0x80-0xff, as latin1). Node's parsers refuse CR, LF, NUL and other controls in a value.
 */
const headerValue = fc.oneof(
  fc.string({ unit: fc.constantFrom(..." \tab,=/".split("")), maxLength: 12 }),
  fc.string({
    unit: fc.oneof(
      fc.constantFrom(" ", "\t"),
      fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
      fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)),
    ),
    maxLength: 20,
  }),
);
/** Header names that live on Object.prototype, which a signed-header list may name. */
const prototypeName = fc.constantFrom(
  "__proto__",
  "constructor",
  "tostring",
  "hasownproperty",
  "valueof",
);

describe("SigV4 percent-encoding (property)", { timeout: fuzzTestTimeoutMs }, () => {
  it("decodes what it encodes, for any bytes, and encodes only to unreserved and %XX", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.boolean(), (bytes, plus) => {
        const encoded = encodeRfc3986(bytes);
        expect(encoded).toMatch(RFC3986_ENCODED);
        expect(percentDecode(encoded, plus)).toEqual(Buffer.from(bytes));
      }),
      fuzzSettings(300),
    );
  });

  it("encodes a string like encodeURIComponent with !'()* escaped too", () => {
    fc.assert(
      fc.property(wellFormedText(24), (text) => {
        const reference = encodeURIComponent(text).replace(
          /[!'()*]/g,
          (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
        );
        expect(encodeRfc3986(text)).toBe(reference);
      }),
      fuzzSettings(300),
    );
  });

  it("decodes any string, refusing exactly a % not followed by two hex digits", () => {
    fc.assert(
      fc.property(noise(40), fc.boolean(), (text, plus) => {
        const decoded = percentDecode(text, plus);
        expect(decoded === undefined).toBe(MALFORMED_ESCAPE.test(text));
        if (decoded !== undefined && !text.includes("%") && !(plus && text.includes("+"))) {
          expect(Buffer.from(decoded).toString("utf8")).toBe(text);
        }
      }),
      fuzzSettings(600),
    );
  });
});

describe("SigV4 canonicalizer (property)", { timeout: fuzzTestTimeoutMs }, () => {
  it("canonicalQuery never throws; its output is sorted, encoded, and a fixed point", () => {
    const rawQuery = fc.oneof(
      noise(60),
      fc
        .array(fc.tuple(wirePathSegment, wirePathSegment), { maxLength: 6 })
        .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join("&")),
    );
    fc.assert(
      fc.property(rawQuery, fc.boolean(), (raw, plusAsSpace) => {
        const pairs = splitQuery(raw);
        const canonical = canonicalQuery(pairs, { plusAsSpace });
        const malformed = pairs.some(
          ([k, v]) => MALFORMED_ESCAPE.test(k) || MALFORMED_ESCAPE.test(v),
        );
        expect(canonical === undefined).toBe(malformed);
        if (canonical === undefined) return;
        const parts = splitQuery(canonical);
        for (const [k, v] of parts) {
          expect(k).toMatch(RFC3986_ENCODED);
          expect(v).toMatch(RFC3986_ENCODED);
        }
        const keys = parts.map(([k, v]) => `${k}\u0000${v}`);
        expect(keys).toEqual([...keys].sort());
        // Pairs with an empty key and value vanish in the join, so compare re-canonicalized.
        expect(canonicalQuery(splitQuery(canonical))).toBe(canonical);
      }),
      fuzzSettings(500),
    );
  });

  it("canonicalUris never throws and yields the raw path first, then distinct encodings", () => {
    const rawPath = fc.oneof(
      noise(60),
      fc.array(wirePathSegment, { maxLength: 6 }).map((s) => `/${s.join("/")}`),
    );
    fc.assert(
      fc.property(rawPath, (path) => {
        const uris = [...canonicalUris(path)];
        expect(uris[0]).toBe(path === "" ? "/" : path);
        expect(new Set(uris).size).toBe(uris.length);
        expect(uris.length).toBeLessThanOrEqual(4);
        // Every candidate keeps the segment structure: encoding never adds or drops a `/`.
        for (const uri of uris) {
          expect(uri.split("/").length).toBe((path === "" ? "/" : path).split("/").length);
        }
      }),
      fuzzSettings(500),
    );
  });

  it("canonicalHeaders reads only own headers, so prototype names are simply absent", () => {
    const headers = fc.dictionary(
      fc.oneof(headerName, prototypeName),
      fc.oneof(headerValue, fc.array(headerValue, { minLength: 1, maxLength: 3 })),
      { maxKeys: 6 },
    );
    const names = fc.array(fc.oneof(headerName, prototypeName, fc.constant("host")), {
      maxLength: 6,
    });
    fc.assert(
      fc.property(headers, names, fc.boolean(), (own, signed, withPrototype) => {
        // Node's HTTP/1 header objects inherit from Object.prototype; HTTP/2 ones do not.
        const record: Record<string, HeaderValue> = withPrototype ? {} : Object.create(null);
        for (const [k, v] of Object.entries(own)) {
          Object.defineProperty(record, k, { value: v, enumerable: true });
        }
        const block = canonicalHeaders(record, signed);
        const present = signed.every((n) => Object.hasOwn(record, n));
        expect(block === undefined).toBe(!present);
        if (block === undefined) return;
        const lines = block.split("\n");
        expect(lines.pop()).toBe("");
        expect(lines.map((l) => l.slice(0, l.indexOf(":")))).toEqual(signed);
      }),
      fuzzSettings(500),
    );
  });

  it("canonicalHeaderValue trims and collapses spaces and tabs, and nothing else", () => {
    fc.assert(
      fc.property(fc.oneof(headerValue, fc.array(headerValue, { maxLength: 3 })), (value) => {
        const out = canonicalHeaderValue(value);
        const values = typeof value === "string" ? [value] : value;
        const reference = values.map((v) =>
          v
            .split(/[ \t]+/)
            .filter(Boolean)
            .join(" "),
        );
        expect(out).toBe(reference.join(","));
      }),
      fuzzSettings(500),
    );
  });
});

const digits = (n: number) => fc.stringMatching(new RegExp(`^\\d{${n}}$`));
const amzDate = fc.oneof(
  // Any digits in the right places, so the calendar checks are exercised.
  fc.tuple(digits(8), digits(6)).map(([d, t]) => `${d}T${t}Z`),
  // Real dates.
  fc
    .date({
      min: new Date("1970-01-01T00:00:00Z"),
      max: new Date("9999-12-31T23:59:59Z"),
      noInvalidDate: true,
    })
    .map((d) => d.toISOString().replace(/[-:]|\.\d{3}/g, "")),
);

describe("SigV4 date parser (property)", { timeout: fuzzTestTimeoutMs }, () => {
  it("parseAmzDate accepts exactly the real UTC instants, and reads them right", () => {
    fc.assert(
      fc.property(fc.oneof(amzDate, noise(20)), (text) => {
        const ms = parseAmzDate(text);
        const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
        if (m === null) {
          expect(ms).toBeUndefined();
          return;
        }
        const iso = `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`;
        const reference = new Date(iso);
        // A real instant prints back to itself; 20240231 or 25:00 do not.
        const real =
          !Number.isNaN(reference.getTime()) &&
          reference.toISOString().replace(/\.\d{3}Z$/, "Z") === iso;
        expect(ms).toBe(real ? reference.getTime() : undefined);
      }),
      fuzzSettings(600),
    );
  });
});

// Pieces of a well-formed signature, each from its own generator, so a parse can be compared
// field by field with what was put in.
const accessKey = fc
  .array(fc.oneof(unreservedChar, fc.constantFrom("/", "+", "=")), { minLength: 1, maxLength: 40 })
  .map((c) => c.join(""))
  .filter((k) => k.length > 0);
const scopePart = fc.stringMatching(/^[a-z0-9-]{1,20}$/);
const signedHeaderList = fc
  .uniqueArray(fc.stringMatching(/^[a-z0-9-]{1,10}$/), { maxLength: 8 })
  .map((names) => [...new Set(["host", ...names])].sort());
const signatureHex = fc.stringMatching(/^[0-9a-f]{64}$/);
const realAmzDate = fc
  .date({
    min: new Date("2000-01-01T00:00:00Z"),
    max: new Date("2099-12-31T23:59:59Z"),
    noInvalidDate: true,
  })
  .map((d) => d.toISOString().replace(/[-:]|\.\d{3}/g, ""));

const authPieces = fc.record({
  accessKey,
  region: scopePart,
  service: scopePart,
  signedHeaders: signedHeaderList,
  signature: signatureHex,
  amzDate: realAmzDate,
  spaces: fc.constantFrom("", " ", "  "),
});
type AuthPieces = typeof authPieces extends fc.Arbitrary<infer T> ? T : never;

function authorizationOf(p: AuthPieces): string {
  const credential = `${p.accessKey}/${p.amzDate.slice(0, 8)}/${p.region}/${p.service}/aws4_request`;
  return (
    `AWS4-HMAC-SHA256 Credential=${credential},${p.spaces}` +
    `SignedHeaders=${p.signedHeaders.join(";")},${p.spaces}Signature=${p.signature}`
  );
}

function expectParsedAs(
  result: ReturnType<typeof parseSigV4Auth>,
  p: AuthPieces,
  presigned: boolean,
) {
  expect(result).toMatchObject({
    ok: true,
    auth: {
      presigned,
      accessKey: p.accessKey,
      region: p.region,
      service: p.service,
      scope: `${p.amzDate.slice(0, 8)}/${p.region}/${p.service}/aws4_request`,
      signedHeaderNames: p.signedHeaders,
      amzDate: p.amzDate,
      signedAtMs: parseAmzDate(p.amzDate),
    },
  });
  if (result.ok) expect(result.auth.signature.toString("hex")).toBe(p.signature);
}

/** mutate applies one random edit (insert, delete, replace) at a random place. */
const mutation = fc.tuple(
  fc.nat(),
  fc.constantFrom("insert", "delete", "replace"),
  fc.oneof(fc.constantFrom(",", "=", " ", "/", ";", "%", "\u0000", "é", "X"), noise(3)),
);
function mutate(text: string, [at, how, what]: [number, string, string]): string {
  const i = text.length === 0 ? 0 : at % (text.length + 1);
  if (how === "insert") return text.slice(0, i) + what + text.slice(i);
  if (how === "delete") return text.slice(0, i) + text.slice(i + 1 + (at % 5));
  return text.slice(0, i) + what + text.slice(i + what.length);
}

function expectWellFormedAnswer(result: ReturnType<typeof parseSigV4Auth>): void {
  if (result.ok) {
    expect(result.auth.signature.length).toBe(32);
    expect(result.auth.signedHeaderNames).toContain("host");
    expect(result.auth.scope.split("/")).toHaveLength(4);
    expect(Number.isFinite(result.auth.signedAtMs)).toBe(true);
  } else {
    expect(PARSE_REASONS.has(result.reason), result.reason).toBe(true);
  }
}

describe("SigV4 Authorization header and presigned query parser (property)", {
  timeout: fuzzTestTimeoutMs,
}, () => {
  it("reads back every well-formed Authorization header it is given", () => {
    fc.assert(
      fc.property(authPieces, (p) => {
        const result = parseSigV4Auth(
          { authorization: authorizationOf(p), "x-amz-date": p.amzDate },
          [],
        );
        expectParsedAs(result, p, false);
      }),
      fuzzSettings(300),
    );
  });

  it("reads back every well-formed presigned query, however its keys and values are escaped", () => {
    const escapeAll = (s: string) =>
      [...Buffer.from(s)].map((b) => `%${b.toString(16).toUpperCase()}`).join("");
    fc.assert(
      fc.property(
        authPieces,
        fc.integer({ min: 1, max: 604_800 }),
        fc.array(fc.constantFrom("encodeURIComponent", "escapeAll", "raw"), {
          minLength: 7,
          maxLength: 7,
        }),
        fc.array(fc.tuple(fc.stringMatching(/^[a-w][a-z0-9]{0,6}$/), fc.string({ maxLength: 6 })), {
          maxLength: 3,
        }),
        (p, expires, styles, extra) => {
          const params: Array<[string, string]> = [
            ["X-Amz-Algorithm", "AWS4-HMAC-SHA256"],
            [
              "X-Amz-Credential",
              `${p.accessKey}/${p.amzDate.slice(0, 8)}/${p.region}/${p.service}/aws4_request`,
            ],
            ["X-Amz-Date", p.amzDate],
            ["X-Amz-Expires", String(expires)],
            ["X-Amz-SignedHeaders", p.signedHeaders.join(";")],
            ["X-Amz-Signature", p.signature],
            ["X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD"],
          ];
          const query = params.map(([k, v], i): [string, string] => {
            const style = styles[i];
            // The key keeps its leading `X` raw: the parser looks for it before decoding.
            const encodeValue =
              style === "escapeAll"
                ? escapeAll
                : style === "raw" && !/[%&=]/.test(v)
                  ? (s: string) => s
                  : encodeURIComponent;
            const key = style === "escapeAll" ? `X${escapeAll(k.slice(1))}` : k;
            return [key, encodeValue(v)];
          });
          for (const [k, v] of extra) query.push([k, encodeURIComponent(v)]);
          const result = parseSigV4Auth({}, query);
          expectParsedAs(result, p, true);
          if (result.ok) {
            expect(result.auth.expiresSeconds).toBe(expires);
            expect(result.auth.queryPayloadHash).toBe("UNSIGNED-PAYLOAD");
          }
        },
      ),
      fuzzSettings(300),
    );
  });

  it("answers a mutated Authorization header or date with a known reason, never a throw", () => {
    fc.assert(
      fc.property(
        authPieces,
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        (p, edits, mutateDate) => {
          let authorization = authorizationOf(p);
          let date = p.amzDate;
          for (const edit of edits) {
            if (mutateDate) date = mutate(date, edit);
            else authorization = mutate(authorization, edit);
          }
          expectWellFormedAnswer(parseSigV4Auth({ authorization, "x-amz-date": date }, []));
        },
      ),
      fuzzSettings(600),
    );
  });

  it("answers arbitrary headers and queries with a known reason, never a throw", () => {
    const value: fc.Arbitrary<HeaderValue> = fc.oneof(
      noise(80),
      fc.constant(undefined),
      fc.array(noise(20), { maxLength: 3 }),
      fc.constant("AWS4-HMAC-SHA256"),
      noise(30).map((s) => `AWS4-HMAC-SHA256 ${s}`),
    );
    const queryKey = fc.oneof(
      noise(20),
      fc.constantFrom(
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Signature",
        "X-Amz-Content-Sha256",
        "x-amz-signature",
        "X%2DAmz-Signature",
        "X-Amz-Signature%",
      ),
    );
    fc.assert(
      fc.property(
        fc.record({ authorization: value, "x-amz-date": value }, { requiredKeys: [] }),
        fc.array(fc.tuple(queryKey, noise(30)), { maxLength: 8 }),
        (headers, query) => {
          expectWellFormedAnswer(parseSigV4Auth(headers, query));
        },
      ),
      fuzzSettings(600),
    );
  });
});

/** repeatTo repeats a chunk until the string is exactly `length` long. */
const repeatTo = (chunk: string, length: number) =>
  chunk.length === 0 ? "" : chunk.repeat(Math.ceil(length / chunk.length)).slice(0, length);

describe("SigV4 parsers on maximal inputs (property)", { timeout: fuzzTestTimeoutMs }, () => {
  // Node bounds the request line and headers to 16 KiB; the verifier bounds the query to 1000
  // pairs and the Authorization header to 4096 characters. Repeated random chunks are what
  // drive a backtracking pattern or a quadratic loop to its worst case.
  const chunk = fc.oneof(
    noise(6),
    fc.constantFrom("a;", ";", "Credential=a/", "SignedHeaders=host;", ", ", "%", "%4", "=", "/"),
  );

  it("parseSigV4Auth answers a 4096-character header in bounded time", () => {
    fc.assert(
      fc.property(chunk, chunk, (a, b) => {
        const authorization = `AWS4-HMAC-SHA256 Credential=${repeatTo(a, 1500)}, SignedHeaders=${repeatTo(b, 1500)}, Signature=${"0".repeat(64)}`;
        const result = expectFast(
          () => parseSigV4Auth({ authorization, "x-amz-date": repeatTo(a, 4096) }, []),
          250,
          "parseSigV4Auth",
        );
        expectWellFormedAnswer(result);
      }),
      fuzzSettings(25, 0.05),
    );
  });

  it("the canonicalizer handles 1000 query pairs and a 16 KiB path in bounded time", () => {
    fc.assert(
      fc.property(chunk, chunk, fc.boolean(), (a, b, plusAsSpace) => {
        const rawQuery = Array.from(
          { length: 1000 },
          (_, i) => `${repeatTo(a, 6)}${i}=${repeatTo(b, 8)}`,
        ).join("&");
        expectFast(
          () => canonicalQuery(splitQuery(rawQuery), { plusAsSpace }),
          250,
          "canonicalQuery",
        );
        const rawPath = `/${repeatTo(`${a}/${b}`, 16_000)}`;
        expectFast(() => [...canonicalUris(rawPath)], 250, "canonicalUris");
        const pairs = Array.from({ length: 1000 }, (): [string, string] => [`X${a}`, b]);
        expectWellFormedAnswer(expectFast(() => parseSigV4Auth({}, pairs), 250, "presigned query"));
      }),
      fuzzSettings(25, 0.05),
    );
  });
});
