import { readFileSync } from "node:fs";
import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import { KmsAdminService } from "../../gen/kms/admin/v1/service_pb.js";
import { compileRoutes } from "../../src/rest/compile-routes.js";
import { openApiFiles } from "../../tools/generate-openapi.js";
import { useGateway } from "../helpers/gateway-process.js";

// Issue 11 item 4: the OpenAPI document is generated from the proto, fresh, valid
// OpenAPI 3.1, complete, with the documented examples, and served at /openapi.json.

const root = new URL("../../", import.meta.url);
const onDisk = (path: string) => readFileSync(new URL(path, root), "utf8");
type Doc = {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
};
type Operation = {
  operationId: string;
  requestBody?: { content: Record<string, { schema: Schema; example?: unknown }> };
  responses: Record<string, { content?: Record<string, { schema: Schema; example?: unknown }> }>;
};
type Schema = { $ref?: string; properties?: Record<string, Schema>; oneOf?: Schema[] };
const doc = JSON.parse(onDisk("openapi/kms-admin.json")) as Doc;

describe("openapi/kms-admin.{yaml,json}", () => {
  it("are what the generator writes from the proto now (run npm run openapi if not)", () => {
    for (const file of openApiFiles()) {
      expect(onDisk(file.path), `${file.path} is stale`).toBe(file.text);
    }
  });

  it("validate as OpenAPI 3.1", async () => {
    for (const path of ["openapi/kms-admin.yaml", "openapi/kms-admin.json"]) {
      const validator = new Validator();
      const result = await validator.validate(onDisk(path));
      expect(result.errors ?? []).toEqual([]);
      expect(result.valid).toBe(true);
      expect(validator.version).toBe("3.1");
    }
  });

  it("describe every REST route of the service, once each", () => {
    const routes = compileRoutes(KmsAdminService);
    const operations = Object.values(doc.paths).flatMap((ops) => Object.values(ops));
    expect(operations).toHaveLength(routes.length);
    const ids = operations.map((op) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const method of KmsAdminService.methods) {
      expect(ids).toContain(method.name);
    }
    expect(doc.paths["/rustfs/admin/v3/kms/keys/{key_id}"]?.get?.operationId).toBe("DescribeKey");
  });

  it("embed the documented examples, whose fields the schemas name", () => {
    const resolve = (schema: Schema): Schema =>
      schema.$ref === undefined
        ? schema
        : resolve(doc.components.schemas[schema.$ref.split("/").at(-1) as string] as Schema);
    let examples = 0;
    for (const ops of Object.values(doc.paths)) {
      for (const op of Object.values(ops)) {
        const media = [
          op.requestBody?.content["application/json"],
          op.responses["200"]?.content?.["application/json"],
        ];
        for (const m of media) {
          if (m?.example === undefined) continue;
          examples++;
          const schema = resolve(m.schema);
          const names = new Set(Object.keys(schema.properties ?? {}));
          for (const key of Object.keys(m.example as object)) {
            expect(names, `${op.operationId}: ${key}`).toContain(key);
          }
        }
      }
    }
    expect(examples).toBeGreaterThanOrEqual(14);
  });
});

describe("GET /openapi.json", () => {
  const gw = useGateway();

  it("serves the generated document without authentication, and only GET/HEAD", async () => {
    const answer = await fetch(`${gw.url}/openapi.json`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-type")).toBe("application/json");
    expect(await answer.text()).toBe(onDisk("openapi/kms-admin.json"));
    expect((await fetch(`${gw.url}/openapi.json`, { method: "POST" })).status).toBe(405);
  });
});
