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

  it("still reaches a variable route whose path is also a literal route", () => {
    expect(found("GET", `${p}/keys/delete`)).toBe('DescribeKey [["delete"]]');
  });

  it("answers 405 with every method the path allows", () => {
    expect(matcher.match("PUT", `${p}/status`)).toEqual({
      kind: "method-not-allowed",
      allow: ["GET"],
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

  it("matches verbs", () => {
    expect(name("POST", "/a/x:run")).toBe("Verb");
    expect(name("POST", "/a/x")).toBe("method-not-allowed");
  });
});
