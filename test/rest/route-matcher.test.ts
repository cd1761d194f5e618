import { describe, expect, it } from "vitest";
import { KmsAdminService } from "../../gen/kms/admin/v1/service_pb.js";
import { compileRoutes } from "../../src/rest/compile-routes.js";
import { createRouteMatcher } from "../../src/rest/route-matcher.js";
import { syntheticService } from "./synthetic-service.js";

const p = "/rustfs/admin/v3/kms";

describe("createRouteMatcher on KmsAdminService", () => {
  const matcher = createRouteMatcher(compileRoutes(KmsAdminService));
  const found = (method: string, path: string) => {
    const m = matcher.match(method, path);
    return m.kind === "found" ? `${m.route.method.name} ${JSON.stringify(m.captures)}` : m;
  };

  it("finds each binding", () => {
    expect(found("GET", `${p}/status`)).toBe("GetStatus []");
    expect(found("GET", `${p}/service-status`)).toBe("GetStatus []");
    expect(found("GET", `${p}/keys`)).toBe("ListKeys []");
    expect(found("POST", `${p}/keys`)).toBe("CreateKey []");
    expect(found("GET", `${p}/keys/abc`)).toBe('DescribeKey [["abc"]]');
    expect(found("DELETE", `${p}/keys/delete`)).toBe("ScheduleKeyDeletion []");
    expect(found("POST", `${p}/keys/cancel-deletion`)).toBe("CancelKeyDeletion []");
  });

  it("routes every literal key route to its RPC, not to /kms/keys/{key_id}", () => {
    expect(found("POST", `${p}/keys/enable`)).toBe("EnableKey []");
    expect(found("POST", `${p}/keys/disable`)).toBe("DisableKey []");
    expect(found("POST", `${p}/keys/rotate`)).toBe("RotateKey []");
    expect(found("POST", `${p}/keys/update-description`)).toBe("UpdateKeyDescription []");
    expect(found("POST", `${p}/keys/tag`)).toBe("TagKey []");
    expect(found("POST", `${p}/keys/untag`)).toBe("UntagKey []");
    expect(found("POST", `${p}/encrypt`)).toBe("Encrypt []");
    expect(found("POST", `${p}/re-encrypt`)).toBe("ReEncrypt []");
    expect(found("POST", `${p}/generate-data-key-without-plaintext`)).toBe(
      "GenerateDataKeyWithoutPlaintext []",
    );
  });

  it("finds a literal route through escapes of unreserved characters", () => {
    expect(found("POST", `${p}/keys/rot%61te`)).toBe("RotateKey []");
    expect(found("POST", `${p}/keys/%72otate`)).toBe("RotateKey []");
    expect(found("POST", "/rustfs/admin/v3/kms/clear%2Dcache")).toBe("ClearCache []");
    // An escaped slash is not a separator: no literal, and no POST template.
    expect(matcher.match("POST", `${p}/keys%2Frotate`)).toEqual({ kind: "not-found" });
  });

  it("sends other methods on a literal key path to the template, and 405 lists both", () => {
    expect(found("GET", `${p}/keys/rotate`)).toBe('DescribeKey [["rotate"]]');
    expect(matcher.match("PUT", `${p}/keys/rotate`)).toEqual({
      kind: "method-not-allowed",
      allow: ["GET", "POST"],
    });
    expect(matcher.match("DELETE", `${p}/encrypt`)).toEqual({
      kind: "method-not-allowed",
      allow: ["POST"],
    });
    // A malformed escape matches no literal; the template still captures it
    // (the decoder then answers 400).
    expect(found("GET", `${p}/keys/%zz`)).toBe('DescribeKey [["%zz"]]');
  });

  it("still reaches a variable route whose path is also a literal route", () => {
    expect(found("GET", `${p}/keys/delete`)).toBe('DescribeKey [["delete"]]');
  });

  it("answers 405 with every method the path allows", () => {
    expect(matcher.match("PUT", `${p}/status`)).toEqual({
      kind: "method-not-allowed",
      allow: ["GET", "POST"],
    });
    expect(matcher.match("PUT", `${p}/keys/delete`)).toEqual({
      kind: "method-not-allowed",
      allow: ["DELETE", "GET"],
    });
    expect(matcher.match("DELETE", `${p}/keys`)).toEqual({
      kind: "method-not-allowed",
      allow: ["GET", "POST"],
    });
  });

  it("answers 404 for unknown paths", () => {
    expect(matcher.match("GET", `${p}/nope`)).toEqual({ kind: "not-found" });
    expect(matcher.match("GET", `${p}/status/`)).toEqual({ kind: "not-found" });
    expect(matcher.match("GET", `${p}/keys/a/b`)).toEqual({ kind: "not-found" });
    expect(matcher.match("GET", "/health")).toEqual({ kind: "not-found" });
    expect(matcher.match("GET", "")).toEqual({ kind: "not-found" });
  });
});

describe("createRouteMatcher specificity", () => {
  const service = syntheticService([
    { name: "Wild", rule: { pattern: { case: "get", value: "/a/{id=**}" } } },
    { name: "One", rule: { pattern: { case: "get", value: "/a/{id}" } } },
    { name: "Lit", rule: { pattern: { case: "get", value: "/a/b" } } },
    { name: "Verb", rule: { pattern: { case: "post", value: "/a/{id}:run" } } },
  ]);
  const matcher = createRouteMatcher(compileRoutes(service));
  const name = (method: string, path: string) => {
    const m = matcher.match(method, path);
    return m.kind === "found" ? m.route.method.name : m.kind;
  };

  it("prefers literal over `*` over `**`, whatever the declaration order", () => {
    expect(name("GET", "/a/b")).toBe("Lit");
    expect(name("GET", "/a/c")).toBe("One");
    expect(name("GET", "/a/c/d")).toBe("Wild");
  });

  it("prefers an exact literal over a `**` that matches zero segments", () => {
    const zero = syntheticService([
      { name: "Rest", rule: { pattern: { case: "get", value: "/a/b/{id=**}" } } },
      { name: "Lit", rule: { pattern: { case: "get", value: "/a/b" } } },
    ]);
    const m = createRouteMatcher(compileRoutes(zero));
    const hit = m.match("GET", "/a/b");
    expect(hit.kind === "found" ? hit.route.method.name : hit.kind).toBe("Lit");
    const deeper = m.match("GET", "/a/b/c");
    expect(deeper.kind === "found" ? deeper.route.method.name : deeper.kind).toBe("Rest");
  });

  it("finds a literal whose template holds an escape, from either spelling", () => {
    const escaped = syntheticService([
      { name: "Esc", rule: { pattern: { case: "get", value: "/a/x%21y" } } },
    ]);
    const m = createRouteMatcher(compileRoutes(escaped));
    expect(m.match("GET", "/a/x%21y").kind).toBe("found");
    expect(m.match("GET", "/a/x!y").kind).toBe("found");
    expect(m.match("GET", "/a/x%2a").kind).toBe("not-found");
  });

  it("matches verbs", () => {
    expect(name("POST", "/a/x:run")).toBe("Verb");
    expect(name("POST", "/a/x")).toBe("method-not-allowed");
  });
});
