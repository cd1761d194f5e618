import { describe, expect, it } from "vitest";
import { matchPathTemplate, parsePathTemplate } from "../../src/rest/path-template.js";

describe("parsePathTemplate", () => {
  it("parses literals, variables, wildcards and a verb", () => {
    const t = parsePathTemplate("/v1/{name=shelves/*/books/*}/x/{id}/*/**:publish");
    expect(t.segments.map((s) => (s.kind === "literal" ? s.value : s.kind))).toEqual([
      "v1",
      "shelves",
      "wildcard",
      "books",
      "wildcard",
      "x",
      "wildcard",
      "wildcard",
      "double-wildcard",
    ]);
    expect(t.verb).toBe("publish");
    expect(t.variables).toEqual([
      { fieldPath: ["name"], start: 1, end: 5 },
      { fieldPath: ["id"], start: 6, end: 7 },
    ]);
  });

  it("parses dotted field paths and `**` captures", () => {
    const t = parsePathTemplate("/a/{book.name=**}");
    expect(t.variables).toEqual([{ fieldPath: ["book", "name"], start: 1, end: undefined }]);
  });

  it("canonicalizes escaped unreserved characters in literals", () => {
    const t = parsePathTemplate("/kms/clear%2dcache");
    expect(t.segments[1]).toEqual({ kind: "literal", value: "clear-cache" });
  });

  it.each([
    ["", /expected "\/"/],
    ["kms/status", /expected "\/"/],
    ["/", /unexpected end/],
    ["/a//b", /column 4/],
    ["/a/", /unexpected end/],
    ["/a/{id", /expected "}"/],
    ["/a/{}", /expected a field name/],
    ["/a/{1x}", /expected a field name/],
    ["/a/{id}/{id}", /appears twice/],
    ["/a/{x={y}}", /may not contain another variable/],
    ["/a/**/b", /'\*\*' must be the last segment/],
    ["/a/{x=**}/b", /'\*\*' must be the last segment/],
    ["/a/b c", /unexpected " "/],
    ["/a/%zz", /malformed percent-encoding/],
    ["/a:", /unexpected end/],
    ["/a:v/b", /unexpected "\/"/],
    ["/a?x=1", /unexpected "\?"/],
  ])("rejects %j", (template, message) => {
    expect(() => parsePathTemplate(template)).toThrow(message);
  });

  it("names the template in the error", () => {
    expect(() => parsePathTemplate("/a/{")).toThrow('invalid path template "/a/{"');
  });
});

describe("matchPathTemplate", () => {
  it("captures raw segments per variable", () => {
    const t = parsePathTemplate("/kms/keys/{key_id}");
    expect(matchPathTemplate(t, "/kms/keys/abc%2Ddef")).toEqual([["abc%2Ddef"]]);
    expect(matchPathTemplate(t, "/kms/keys/")).toEqual([[""]]);
    expect(matchPathTemplate(t, "/kms/keys")).toBeUndefined();
    expect(matchPathTemplate(t, "/kms/keys/a/b")).toBeUndefined();
    expect(matchPathTemplate(t, "kms/keys/a")).toBeUndefined();
  });

  it("compares literals in canonical form", () => {
    const t = parsePathTemplate("/kms/clear-cache");
    expect(matchPathTemplate(t, "/kms/clear%2Dcache")).toEqual([]);
    expect(matchPathTemplate(t, "/kms/clear%2dcache")).toEqual([]);
    expect(matchPathTemplate(t, "/kms/clear%2")).toBeUndefined();
    expect(matchPathTemplate(t, "/kms/clear-cache/")).toBeUndefined();
  });

  it("lets `**` take zero or more segments", () => {
    const t = parsePathTemplate("/files/{path=**}");
    expect(matchPathTemplate(t, "/files/a/b/c")).toEqual([["a", "b", "c"]]);
    expect(matchPathTemplate(t, "/files")).toEqual([[]]);
  });

  it("requires the verb when the template has one", () => {
    const t = parsePathTemplate("/v1/{name}:cancel");
    expect(matchPathTemplate(t, "/v1/op1:cancel")).toEqual([["op1"]]);
    expect(matchPathTemplate(t, "/v1/op1")).toBeUndefined();
    expect(matchPathTemplate(t, "/v1/op1:other")).toBeUndefined();
  });
});

describe("matchPathTemplate walking a fixed-length template in place", () => {
  it("reads the leading literals no variable captures as one prefix", () => {
    const t = parsePathTemplate("/kms/k%65ys/{key_id}/rotations");
    expect([t.literalPrefix, t.literalPrefixSegments]).toEqual(["/kms/keys/", 2]);
    const captured = parsePathTemplate("/v1/{name=ops/*}");
    expect([captured.literalPrefix, captured.literalPrefixSegments]).toEqual(["/v1/", 1]);
    for (const text of ["/{a}/b", "/kms/clear-cache", "/kms/*/x"]) {
      const other = parsePathTemplate(text);
      expect(other.literalPrefixSegments, text).toBe(text === "/kms/*/x" ? 1 : 0);
    }
  });

  it("matches as segment-by-segment comparison does, escapes and empty segments included", () => {
    const t = parsePathTemplate("/kms/keys/{key_id}/rotations");
    const cases: Array<[string, string[][] | undefined]> = [
      ["/kms/keys/a/rotations", [["a"]]],
      ["/kms/k%65ys/a/rotations", [["a"]]], // the prefix differs, the canonical segment does not
      ["/kms/keys/a%2Fb/rotations", [["a%2Fb"]]],
      ["/kms/keys//rotations", [[""]]],
      ["/kms/keys/a/rotations/", undefined],
      ["/kms/keys/a/b/rotations", undefined],
      ["/kms/keys/a", undefined],
      ["/kms/keys/a/rotation", undefined],
      ["/kms/keysa/rotations", undefined],
      ["/kms/keys/a/rotations%", undefined],
    ];
    for (const [path, expected] of cases)
      expect(matchPathTemplate(t, path), path).toEqual(expected);
  });

  it("captures a literal segment that belongs to a variable", () => {
    const t = parsePathTemplate("/v1/{name=ops/*}/x");
    expect(matchPathTemplate(t, "/v1/ops/7/x")).toEqual([["ops", "7"]]);
    expect(matchPathTemplate(t, "/v1/o%70s/7/x")).toEqual([["o%70s", "7"]]);
    expect(matchPathTemplate(t, "/v1/opz/7/x")).toBeUndefined();
  });
});
