import { describe, expect, it } from "vitest";
import {
  matchPathSegments,
  matchPathTemplate,
  parsePathTemplate,
  splitPath,
} from "../../src/rest/path-template.js";

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

describe("splitPath and matchPathSegments", () => {
  it("match as matchPathTemplate does, on a path split once for several templates", () => {
    const templates = [
      "/kms/keys/{key_id}",
      "/kms/keys/{key_id}/rotations",
      "/v1/{name=ops/*}:cancel",
    ];
    const paths = [
      "/kms/keys/a",
      "/kms/keys/a/rotations",
      "/v1/ops/x:cancel",
      "/v1/ops/x",
      "kms/keys/a",
    ];
    for (const path of paths) {
      const parts = splitPath(path);
      for (const text of templates) {
        const t = parsePathTemplate(text);
        expect(parts === undefined ? undefined : matchPathSegments(t, parts)).toEqual(
          matchPathTemplate(t, path),
        );
      }
    }
    expect(splitPath("kms/keys")).toBeUndefined();
  });

  it("leaves the split path unchanged when a :verb template strips the verb", () => {
    const parts = splitPath("/v1/ops/x:cancel") ?? [];
    expect(matchPathSegments(parsePathTemplate("/v1/{name=ops/*}:cancel"), parts)).toEqual([
      ["ops", "x"],
    ]);
    expect(parts).toEqual(["v1", "ops", "x:cancel"]);
  });
});
