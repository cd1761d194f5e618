import { type DescField, type DescMessage, type JsonValue, ScalarType } from "@bufbuild/protobuf";
import { isWrapperDesc, timestampFromDate } from "@bufbuild/protobuf/wkt";
import fc from "fast-check";

// Random messages for the compiled JSON writers' property tests (compiled-json-writer.test.ts,
// test/property/proto-json-codecs.property.test.ts): init objects for `create`, every
// presence case included, strings with quotes, controls, U+2028 and lone surrogates.

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
    if (kind === "scalar" && "longAsString" in field && field.longAsString) {
      // jstype = JS_STRING: the value is a decimal string, sometimes not a canonical one.
      return fc.oneof(
        scalarArbitrary(field.scalar as ScalarType).map(String),
        fc.constantFrom("007", "-0", "0"),
      );
    }
    if (kind === "scalar") return scalarArbitrary(field.scalar as ScalarType);
    if (kind === "enum") {
      return fc.oneof(
        fc.constantFrom(...(field.enum?.values ?? []).map((v) => v.number)),
        fc.constant(99),
      );
    }
    // Deep enough: a recursive message must not build arbitraries forever.
    if (depth > 3) return fc.constant({});
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
      if (field.fieldKind === "message" && field.oneof === undefined) {
        // A singular wrapper or Struct field holds the unwrapped value.
        if (isWrapperDesc(field.message)) {
          return scalarArbitrary((field.message.fields[0] as DescField).scalar as ScalarType);
        }
        if (field.message.typeName === "google.protobuf.Struct") {
          return fc.dictionary(fc.string({ maxLength: 4 }), fc.jsonValue({ maxDepth: 2 }), {
            maxKeys: 3,
          }) as fc.Arbitrary<Record<string, JsonValue>>;
        }
      }
      return one(field.fieldKind);
  }
}

/** messageArbitrary builds a random init object for any message, every presence case included. */
export function messageArbitrary(desc: DescMessage, depth = 0): fc.Arbitrary<unknown> {
  if (desc.typeName === "google.protobuf.Timestamp") {
    return fc
      .date({
        min: new Date("0001-01-01T00:00:00Z"),
        max: new Date("9999-12-31T23:59:59Z"),
        noInvalidDate: true,
      })
      .map((d) => timestampFromDate(d));
  }
  if (desc.typeName === "google.protobuf.Duration") {
    return fc
      .tuple(
        fc.bigInt({ min: -315_576_000_000n, max: 315_576_000_000n }),
        fc.integer({ min: 0, max: 999_999_999 }),
      )
      .map(([seconds, nanos]) => ({ seconds, nanos: seconds < 0n ? -nanos : nanos }));
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
