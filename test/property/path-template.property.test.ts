import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KmsAdminService } from "../../gen/kms/admin/v1/service_pb.js";
import { encodeRfc3986, percentDecode } from "../../src/auth/percent-encoding.js";
import { type CompiledRoute, compileRoutes } from "../../src/rest/compile-routes.js";
import { matchPathTemplate, parsePathTemplate } from "../../src/rest/path-template.js";
import {
  canonicalizePathSegment,
  decodePathSegment,
  decodeQueryComponent,
} from "../../src/rest/percent-encoding.js";
import { createRouteMatcher } from "../../src/rest/route-matcher.js";
import { expectFast, fuzzSettings, fuzzTestTimeoutMs } from "../helpers/fuzz-settings.js";
import { noise, unreservedChar, wellFormedText, wirePathSegment } from "./wire-arbitraries.js";

// The REST router reads the request path before anything else: path templates (parsed at
// start-up, but from a grammar worth fuzzing), the matcher, and the percent-decoding of
// captured variables and query components.

const MALFORMED_ESCAPE = /%(?![0-9A-Fa-f]{2})/;

/** escapeSome writes an unreserved literal with some characters as `%XX` (upper or lower). */
const escapeSome = (literal: string) =>
  fc
    .array(fc.constantFrom("raw", "upper", "lower"), {
      minLength: literal.length,
      maxLength: literal.length,
    })
    .map((how) =>
      [...literal]
        .map((c, i) => {
          const h = c.charCodeAt(0).toString(16).padStart(2, "0");
          return how[i] === "raw" ? c : `%${how[i] === "upper" ? h.toUpperCase() : h}`;
        })
        .join(""),
    );

const literal = fc.array(unreservedChar, { minLength: 1, maxLength: 6 }).map((c) => c.join(""));

type Piece = { kind: "literal"; value: string } | { kind: "*" } | { kind: "**" };
type Item = Piece | { kind: "var"; name: string; pieces: Piece[] | undefined };

/**
 * A template in the google.api.http grammar: literals, `*`, variables (`{x}` or
 * `{x=pieces}`) and a final `**`, then an optional verb.
 */
const templateShape = fc
  .record({
    items: fc.array(
      fc.oneof(
        { weight: 3, arbitrary: literal.map((value): Item => ({ kind: "literal", value })) },
        { weight: 1, arbitrary: fc.constant<Item>({ kind: "*" }) },
        {
          weight: 2,
          arbitrary: fc
            .option(
              fc.array(
                fc.oneof(
                  literal.map((value): Piece => ({ kind: "literal", value })),
                  fc.constant<Piece>({ kind: "*" }),
                ),
                { minLength: 1, maxLength: 3 },
              ),
              { nil: undefined },
            )
            .map((pieces): Item => ({ kind: "var", name: "", pieces })),
        },
      ),
      { minLength: 1, maxLength: 5 },
    ),
    tail: fc.constantFrom("none", "**", "{rest=**}"),
    verb: fc.option(literal, { nil: undefined }),
  })
  .map(({ items, tail, verb }) => {
    // Variables are named v0, v1, … so that no two share a field path.
    let n = 0;
    const named = items.map((item) => (item.kind === "var" ? { ...item, name: `v${n++}` } : item));
    if (tail === "**") named.push({ kind: "**" });
    if (tail === "{rest=**}") named.push({ kind: "var", name: "rest", pieces: [{ kind: "**" }] });
    return { items: named, verb };
  });
type Shape = typeof templateShape extends fc.Arbitrary<infer T> ? T : never;

const renderPiece = (p: Piece) => (p.kind === "literal" ? p.value : p.kind);
function renderTemplate(shape: Shape): string {
  const parts = shape.items.map((item) =>
    item.kind === "var"
      ? `{${item.name}${item.pieces === undefined ? "" : `=${item.pieces.map(renderPiece).join("/")}`}}`
      : renderPiece(item),
  );
  return `/${parts.join("/")}${shape.verb === undefined ? "" : `:${shape.verb}`}`;
}

/** A path the template must match, with the raw segments each variable must capture. */
function pathFor(shape: Shape) {
  const pieceSegments = (p: Piece, first: boolean): fc.Arbitrary<string[]> => {
    if (p.kind === "literal") return escapeSome(p.value).map((s) => [s]);
    if (p.kind === "*") return wirePathSegment.map((s) => [s]);
    // `**` may match no segment, except when it is the whole path (then "/" is one empty one).
    return fc.array(wirePathSegment, { minLength: first ? 1 : 0, maxLength: 3 });
  };
  const itemArbs = shape.items.map((item, i) => {
    const pieces: Piece[] =
      item.kind === "var" ? (item.pieces ?? [{ kind: "*" }]) : [item as Piece];
    return fc
      .tuple(...pieces.map((p, j) => pieceSegments(p, i === 0 && j === 0)))
      .map((lists) => ({ item, segments: lists.flat() }));
  });
  return fc
    .tuple(
      fc.tuple(...itemArbs),
      shape.verb === undefined ? fc.constant(undefined) : escapeSome(shape.verb),
    )
    .map(([items, verb]) => {
      const segments = items.flatMap((i) => i.segments);
      const path = `/${segments.join("/")}${verb === undefined ? "" : `:${verb}`}`;
      const captures = items.filter((i) => i.item.kind === "var").map((i) => i.segments);
      return { path, captures };
    });
}

describe("path templates (property)", { timeout: fuzzTestTimeoutMs }, () => {
  it("parse any string into a template or a 'invalid path template' Error, nothing else", () => {
    const template = fc.oneof(
      noise(40),
      noise(30).map((s) => `/${s}`),
      templateShape.chain((shape) =>
        fc.tuple(fc.nat(), noise(3)).map(([at, junk]) => {
          const t = renderTemplate(shape);
          const i = at % (t.length + 1);
          return t.slice(0, i) + junk + t.slice(i + 1);
        }),
      ),
    );
    fc.assert(
      fc.property(template, (text) => {
        try {
          const parsed = parsePathTemplate(text);
          expect(parsed.template).toBe(text);
        } catch (error) {
          expect(error).toBeInstanceOf(Error);
          expect(error).not.toBeInstanceOf(TypeError);
          expect((error as Error).message).toMatch(/^invalid path template /);
        }
      }),
      fuzzSettings(400),
    );
  });

  it("match every path they generate, capturing exactly the generated segments", () => {
    fc.assert(
      fc.property(
        templateShape.chain((shape) => fc.tuple(fc.constant(shape), pathFor(shape))),
        ([shape, { path, captures }]) => {
          const template = parsePathTemplate(renderTemplate(shape));
          expect(matchPathTemplate(template, path)).toEqual(captures);
        },
      ),
      fuzzSettings(600),
    );
  });

  it("do not match a generated path with one more segment, unless they end in **", () => {
    fc.assert(
      fc.property(
        templateShape.chain((shape) => fc.tuple(fc.constant(shape), pathFor(shape))),
        wirePathSegment,
        ([shape, { path }], extra) => {
          const template = parsePathTemplate(renderTemplate(shape));
          const last = template.segments[template.segments.length - 1];
          fc.pre(last?.kind !== "double-wildcard");
          expect(matchPathTemplate(template, `${path}/${extra}`)).toBeUndefined();
        },
      ),
      fuzzSettings(300),
    );
  });

  it("match any raw path without throwing", () => {
    const templates = [
      "/a/{x}",
      "/a/{x=**}:verb",
      "/{x=a/*}/b/**",
      "/rustfs/admin/v3/kms/keys/{key_id}",
    ].map(parsePathTemplate);
    fc.assert(
      fc.property(
        fc.oneof(
          noise(60),
          noise(40).map((s) => `/a/${s}`),
        ),
        (path) => {
          for (const t of templates) {
            const captures = matchPathTemplate(t, path);
            if (captures !== undefined) expect(captures).toHaveLength(t.variables.length);
          }
        },
      ),
      fuzzSettings(600),
    );
  });
});

describe("path templates on maximal inputs (property)", { timeout: fuzzTestTimeoutMs }, () => {
  it("parse and match 16 KiB inputs in bounded time", () => {
    const chunk = fc.oneof(
      noise(6),
      wirePathSegment,
      fc.constantFrom("/", "{a", "=*", "**", ":v", "%"),
    );
    const templates = [
      "/a/{x=**}:v",
      "/{x=*}/{y=a/*}/**",
      "/rustfs/admin/v3/kms/keys/{key_id}",
    ].map(parsePathTemplate);
    fc.assert(
      fc.property(chunk, (c) => {
        const long = c.repeat(Math.ceil(16_000 / Math.max(1, c.length))).slice(0, 16_000);
        expectFast(
          () => {
            try {
              parsePathTemplate(`/${long}`);
            } catch {
              // Refusing is fine; only the time counts here.
            }
          },
          250,
          "parsePathTemplate",
        );
        for (const t of templates) {
          expectFast(() => matchPathTemplate(t, `/a/${long}`), 250, "matchPathTemplate");
        }
        expectFast(() => canonicalizePathSegment(long), 250, "canonicalizePathSegment");
      }),
      fuzzSettings(25, 0.05),
    );
  });
});

describe("REST percent-decoding (property)", { timeout: fuzzTestTimeoutMs }, () => {
  it("canonicalizePathSegment agrees with the SigV4 decoder and encoder, and is idempotent", () => {
    fc.assert(
      fc.property(fc.oneof(noise(30), wirePathSegment), (raw) => {
        const canonical = canonicalizePathSegment(raw);
        expect(canonical === undefined).toBe(MALFORMED_ESCAPE.test(raw));
        if (canonical === undefined) return;
        // Two independent implementations of "decode, then RFC 3986-encode".
        expect(canonical).toBe(encodeRfc3986(percentDecode(raw) as Uint8Array));
        expect(canonicalizePathSegment(canonical)).toBe(canonical);
      }),
      fuzzSettings(600),
    );
  });

  it("decodePathSegment and decodeQueryComponent undo encodeURIComponent", () => {
    fc.assert(
      fc.property(wellFormedText(20), fc.boolean(), (text, keepSlash) => {
        const encoded = encodeURIComponent(text);
        expect(decodePathSegment(encoded, keepSlash)).toBe(
          keepSlash ? text.replaceAll("/", "%2F") : text,
        );
        expect(decodeQueryComponent(encoded)).toBe(text);
        expect(decodeQueryComponent(encoded.replaceAll("%20", "+"))).toBe(text);
      }),
      fuzzSettings(600),
    );
  });

  it("decodePathSegment and decodeQueryComponent fail only with URIError", () => {
    fc.assert(
      fc.property(fc.oneof(noise(30), wirePathSegment), fc.boolean(), (raw, keepSlash) => {
        for (const decode of [
          () => decodePathSegment(raw, keepSlash),
          () => decodeQueryComponent(raw),
        ]) {
          try {
            expect(typeof decode()).toBe("string");
          } catch (error) {
            expect(error).toBeInstanceOf(URIError);
          }
        }
      }),
      fuzzSettings(600),
    );
  });
});

describe("route matcher over KmsAdminService (property)", { timeout: fuzzTestTimeoutMs }, () => {
  const routes = compileRoutes(KmsAdminService);
  const matcher = createRouteMatcher(routes);
  const P = "/rustfs/admin/v3/kms";
  const method = fc.oneof(
    fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"),
    noise(8),
  );
  const path = fc.oneof(
    noise(60),
    fc.array(wirePathSegment, { maxLength: 4 }).map((s) => `${P}/${s.join("/")}`),
    fc.array(wirePathSegment, { maxLength: 2 }).map((s) => `${P}/keys/${s.join("/")}`),
    fc
      .constantFrom(...routes.map((r) => r.template.template))
      .chain((t) => escapeSome(t.replace(/[{}=*]/g, "x").replace(/[^A-Za-z0-9\-._~/]/g, ""))),
  );

  it("answers found, 405 with the other methods, or 404, consistently with the templates", () => {
    fc.assert(
      fc.property(method, path, (m, p) => {
        const match = matcher.match(m, p);
        const matching = routes.filter((r) => matchPathTemplate(r.template, p) !== undefined);
        if (match.kind === "found") {
          expect(match.route.httpMethod).toBe(m);
          expect(matching).toContain(match.route);
          // The most specific route for the method wins: no other route of this method that
          // matches has a literal where the winner has a wildcard.
          for (const other of matching.filter((r) => r.httpMethod === m)) {
            expect(moreSpecific(other, match.route)).toBe(false);
          }
        } else if (match.kind === "method-not-allowed") {
          expect(match.allow).not.toContain(m);
          expect(match.allow).toEqual([...new Set(matching.map((r) => r.httpMethod))].sort());
        } else {
          expect(matching).toEqual([]);
        }
      }),
      fuzzSettings(600),
    );
  });
});

/** moreSpecific tells whether a has a literal where b first has a wildcard. */
function moreSpecific(a: CompiledRoute, b: CompiledRoute): boolean {
  const rank = { literal: 0, wildcard: 1, "double-wildcard": 2 } as const;
  const sa = a.template.segments;
  const sb = b.template.segments;
  for (let i = 0; i < Math.min(sa.length, sb.length); i++) {
    const d = rank[sa[i]?.kind ?? "literal"] - rank[sb[i]?.kind ?? "literal"];
    if (d !== 0) return d < 0;
  }
  return false;
}
