import { create, getOption, hasOption } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { http } from "../../gen/google/api/annotations_pb.js";
import { HttpRuleSchema } from "../../gen/google/api/http_pb.js";
import { KmsAdminService } from "../../gen/kms/admin/v1/service_pb.js";
import { compileRoutes, compileRule } from "../../src/rest/compile-routes.js";
import { syntheticService } from "./synthetic-service.js";

const m = KmsAdminService.method;

describe("compileRoutes on KmsAdminService", () => {
  const routes = compileRoutes(KmsAdminService);
  const table = routes.map((r) => `${r.method.name} ${r.httpMethod} ${r.template.template}`);

  it("routes every method that has a google.api.http rule", () => {
    const ruled = KmsAdminService.methods.filter((method) => hasOption(method, http));
    expect(ruled.length).toBeGreaterThan(0);
    for (const method of ruled) {
      const rule = getOption(method, http);
      const count = routes.filter((r) => r.method === method).length;
      expect(count, method.name).toBe(1 + rule.additionalBindings.length);
    }
    expect(new Set(routes.map((r) => r.method)).size).toBe(ruled.length);
  });

  it("contains the seed's bindings, both GetStatus paths included", () => {
    expect(table).toEqual(
      expect.arrayContaining([
        "GetStatus GET /rustfs/admin/v3/kms/status",
        "GetStatus GET /rustfs/admin/v3/kms/service-status",
        "ClearCache POST /rustfs/admin/v3/kms/clear-cache",
        "CreateKey POST /rustfs/admin/v3/kms/keys",
        "ListKeys GET /rustfs/admin/v3/kms/keys",
        "DescribeKey GET /rustfs/admin/v3/kms/keys/{key_id}",
        "ScheduleKeyDeletion DELETE /rustfs/admin/v3/kms/keys/delete",
        "CancelKeyDeletion POST /rustfs/admin/v3/kms/keys/cancel-deletion",
        "GenerateDataKey POST /rustfs/admin/v3/kms/generate-data-key",
        "Configure POST /rustfs/admin/v3/kms/configure",
      ]),
    );
  });

  it("resolves bodies and path variables to fields", () => {
    const configure = routes.find((r) => r.method === m.configure);
    expect(configure?.body.kind).toBe("field");
    expect(configure?.body.kind === "field" && configure.body.field.name).toBe("config");
    const describeKey = routes.find((r) => r.method === m.describeKey);
    expect(describeKey?.body.kind).toBe("none");
    expect(describeKey?.variables.map((v) => v.fields.map((f) => f.name))).toEqual([["key_id"]]);
    expect(routes.find((r) => r.method === m.createKey)?.body.kind).toBe("all");
  });
});

describe("compileRule rejects bad rules", () => {
  const rule = (init: Parameters<typeof create<typeof HttpRuleSchema>>[1]) =>
    create(HttpRuleSchema, init);

  it("accepts a good custom rule with a dotted variable", () => {
    const routes = compileRule(
      m.reconfigure,
      rule({
        pattern: { case: "custom", value: { kind: "PATCH", path: "/v1/{config.key_dir}" } },
        body: "*",
      }),
    );
    expect(routes[0]?.httpMethod).toBe("PATCH");
    expect(routes[0]?.variables[0]?.fields.map((f) => f.name)).toEqual(["config", "key_dir"]);
  });

  it.each([
    ["no pattern", m.getStatus, {}, /no HTTP method and path/],
    [
      "bad template",
      m.getStatus,
      { pattern: { case: "get", value: "/a/{" } },
      /invalid path template/,
    ],
    [
      "body naming no field",
      m.configure,
      { pattern: { case: "post", value: "/c" }, body: "nope" },
      /body "nope" names no top-level field/,
    ],
    [
      "dotted body",
      m.configure,
      { pattern: { case: "post", value: "/c" }, body: "config.key_dir" },
      /names no top-level field/,
    ],
    [
      "path variable naming no field",
      m.describeKey,
      { pattern: { case: "get", value: "/k/{id}" } },
      /path variable "id": no field "id"/,
    ],
    [
      "path variable naming a message",
      m.configure,
      { pattern: { case: "post", value: "/c/{config}" } },
      /must be a singular scalar or enum, not message/,
    ],
    [
      "path variable naming a map",
      m.createKey,
      { pattern: { case: "post", value: "/c/{tags}" } },
      /must be a singular scalar or enum, not map/,
    ],
    [
      "path variable through a scalar",
      m.describeKey,
      { pattern: { case: "get", value: "/k/{key_id.x}" } },
      /key_id is not a message field/,
    ],
    [
      "path variable and body on one field",
      m.describeKey,
      { pattern: { case: "post", value: "/k/{key_id}" }, body: "key_id" },
      /bound by both the path and the body/,
    ],
    [
      "response_body",
      m.describeKey,
      { pattern: { case: "get", value: "/k" }, responseBody: "key_metadata" },
      /response_body is not supported/,
    ],
    [
      "bad custom kind",
      m.getStatus,
      { pattern: { case: "custom", value: { kind: "GE T", path: "/s" } } },
      /is not an HTTP method/,
    ],
    [
      "nested additional bindings",
      m.getStatus,
      {
        pattern: { case: "get", value: "/s" },
        additionalBindings: [
          {
            pattern: { case: "get", value: "/t" },
            additionalBindings: [{ pattern: { case: "get", value: "/u" } }],
          },
        ],
      },
      /additional_bindings of its own/,
    ],
    [
      "bad additional binding",
      m.getStatus,
      {
        pattern: { case: "get", value: "/s" },
        additionalBindings: [{ pattern: { case: "get", value: "s" } }],
      },
      /invalid path template "s"/,
    ],
  ] as const)("%s", (_name, method, init, message) => {
    expect(() => compileRule(method, rule(init as never))).toThrow(message);
  });

  it("names the method in the error", () => {
    expect(() => compileRule(m.getStatus, rule({}))).toThrow(
      "google.api.http rule of kms.admin.v1.KmsAdminService.GetStatus",
    );
  });
});

describe("compileRoutes on synthetic services", () => {
  it("skips methods without a rule", () => {
    const service = syntheticService([
      { name: "A", rule: { pattern: { case: "get", value: "/a/{id}" } } },
      { name: "B" },
    ]);
    expect(compileRoutes(service).map((r) => r.method.name)).toEqual(["A"]);
  });

  it("rejects two rules for the same method and path", () => {
    const service = syntheticService([
      { name: "A", rule: { pattern: { case: "get", value: "/a/{id}" } } },
      { name: "B", rule: { pattern: { case: "get", value: "/a/{id=*}" } } },
    ]);
    expect(() => compileRoutes(service)).toThrow(
      /conflicting.*GET \/a\/\{id=\*\} is bound by both t\.S\.A and t\.S\.B/,
    );
  });

  it("allows one path under two methods", () => {
    const service = syntheticService([
      { name: "A", rule: { pattern: { case: "get", value: "/a" } } },
      { name: "B", rule: { pattern: { case: "post", value: "/a" }, body: "*" } },
    ]);
    expect(compileRoutes(service)).toHaveLength(2);
  });

  it("rejects a rule on a streaming method", () => {
    const service = syntheticService([
      { name: "A", serverStreaming: true, rule: { pattern: { case: "get", value: "/a" } } },
    ]);
    expect(() => compileRoutes(service)).toThrow(/only unary methods/);
  });
});
