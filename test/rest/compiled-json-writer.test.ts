import { create, type DescField, type DescMessage, ScalarType } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KmsAdminService } from "../../gen/kms/admin/v1/service_pb.js";
import { compileRestJsonWriter, writeRestJson } from "../../src/rest/json-writer.js";
import { syntheticService } from "./synthetic-service.js";

/** hostileString includes quotes, controls, U+2028 and lone surrogates. */
const hostileString = fc.string({ unit: "binary", maxLength: 12 });

function scalarArbitrary(scalar: ScalarType): fc.Arbitrary<unknown> {
  switch (scalar) {
    case ScalarType.STRING:
      return hostileString;
    case ScalarType.BOOL:
      return fc.boolean();
    case ScalarType.BYTES:
      return fc.uint8Array({ maxLength: 40 });
    case ScalarType.DOUBLE:
      return fc.double();
    case ScalarType.FLOAT:
      return fc.float().map((f) => Math.fround(f));
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return fc.integer({ min: 0, max: 2 ** 32 - 1 });
    default:
      return fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
  }
}

function mapKeyArbitrary(scalar: ScalarType): fc.Arbitrary<string> {
  if (scalar === ScalarType.STRING) return hostileString.filter((k) => k !== "__proto__");
  if (scalar === ScalarType.BOOL) return fc.constantFrom("true", "false");
  return fc.integer({ min: -1000, max: 1000 }).map(String);
}

/** valueArbitrary builds a field's init value; enums include a number no value names. */
function valueArbitrary(field: DescField, depth: number): fc.Arbitrary<unknown> {
  const one = (kind: "scalar" | "enum" | "message"): fc.Arbitrary<unknown> => {
    if (kind === "scalar") return scalarArbitrary(field.scalar as ScalarType);
    if (kind === "enum") {
      return fc.oneof(
        fc.constantFrom(...(field.enum?.values ?? []).map((v) => v.number)),
        fc.constant(99),
      );
    }
    return messageArbitrary(field.message as DescMessage, depth + 1);
  };
  switch (field.fieldKind) {
    case "list":
      return fc.array(one(field.listKind), { maxLength: depth > 2 ? 0 : 3 });
    case "map":
      return fc.dictionary(mapKeyArbitrary(field.mapKey), one(field.mapKind), {
        maxKeys: depth > 2 ? 0 : 3,
      });
    default:
      return one(field.fieldKind);
  }
}

/** messageArbitrary builds a random init object for any message, every presence case included. */
function messageArbitrary(desc: DescMessage, depth = 0): fc.Arbitrary<unknown> {
  if (desc.typeName === "google.protobuf.Timestamp") {
    return fc
      .date({
        min: new Date("0001-01-01T00:00:00Z"),
        max: new Date("9999-12-31T23:59:59Z"),
        noInvalidDate: true,
      })
      .map((d) => timestampFromDate(d));
  }
  const parts: Record<string, fc.Arbitrary<unknown>> = {};
  for (const member of desc.members) {
    if (member.kind === "oneof") {
      const choices = member.fields.map((f) =>
        valueArbitrary(f, depth).map((value) => ({ case: f.localName, value })),
      );
      parts[member.localName] = fc.option(fc.oneof(...choices), { nil: undefined });
      continue;
    }
    const value = valueArbitrary(member, depth);
    const explicit =
      member.fieldKind === "message" || (member.fieldKind === "scalar" && member.presence === 1);
    parts[member.localName] =
      explicit && depth <= 3
        ? fc.option(value, { nil: undefined })
        : explicit
          ? fc.constant(undefined)
          : value;
  }
  return fc.record(parts, { requiredKeys: [] });
}

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
