import { create, type DescMessage } from "@bufbuild/protobuf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KmsAdminService } from "../../gen/kms/admin/v1/service_pb.js";
import { compileRestJsonWriter, writeRestJson } from "../../src/rest/json-writer.js";
import { messageArbitrary } from "./message-arbitrary.js";
import { syntheticService } from "./synthetic-service.js";

const synthetic = syntheticService([
  { name: "Put", rule: { pattern: { case: "post", value: "/v1/things" }, body: "*" } },
]);
const schemas = new Map<string, DescMessage>();
for (const service of [KmsAdminService, synthetic]) {
  for (const method of service.methods) {
    schemas.set(method.output.typeName, method.output);
    schemas.set(method.input.typeName, method.input);
  }
}

describe("compileRestJsonWriter", () => {
  it("writes what JSON.stringify(writeRestJson(…)) writes, for every message of the service", () => {
    expect(schemas.size).toBeGreaterThan(20);
    for (const desc of schemas.values()) {
      const write = compileRestJsonWriter(desc);
      fc.assert(
        fc.property(messageArbitrary(desc), (init) => {
          const message = create(desc, init as never);
          expect(write(message)).toBe(JSON.stringify(writeRestJson(desc, message)));
        }),
        { seed: 6, numRuns: 60 },
      );
    }
  });

  it("refuses a field of the wrong type, as toJson does", () => {
    const desc = KmsAdminService.method.generateDataKey.output;
    const message = create(desc, { keyId: "k" });
    (message as unknown as Record<string, unknown>).keyId = 7;
    expect(() => compileRestJsonWriter(desc)(message)).toThrow();
    expect(() => writeRestJson(desc, message)).toThrow();
  });
});
