import {
  create,
  createFileRegistry,
  type DescField,
  type DescMessage,
  type DescService,
  type Message,
  toJson,
} from "@bufbuild/protobuf";
import {
  FileDescriptorProtoSchema,
  file_google_protobuf_duration,
  file_google_protobuf_struct,
  file_google_protobuf_timestamp,
  file_google_protobuf_wrappers,
  FieldOptions_JSType as JSType,
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as Type,
} from "@bufbuild/protobuf/wkt";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KmsAdminService } from "../../gen/kms/admin/v1/service_pb.js";
import { TrentService } from "../../gen/kms/aws/v1/trent_service_pb.js";
import { compileProtoJsonWriter, type ProtoJsonWriteOptions } from "../../src/rest/json-writer.js";
import { fuzzSettings, fuzzTestTimeoutMs } from "../helpers/fuzz-settings.js";
import { messageArbitrary } from "../rest/message-arbitrary.js";

// The compiled proto JSON writer is a fast path in front of toJson + JSON.stringify (what
// connect's JSON serializer and the AWS JSON adapter write): wherever it answers, its text
// must be exactly the reflective text; wherever the reflective path throws, it must leave
// the message to it (undefined), so the error stays toJson's.

/** reference is the reflective answer: the text, or the error it throws. */
function reference(
  desc: DescMessage,
  message: Message,
  options: ProtoJsonWriteOptions,
): { text: string } | { error: unknown } {
  try {
    return { text: JSON.stringify(toJson(desc, message, options)) };
  } catch (error) {
    return { error };
  }
}

/** messagesOf is every message type reachable from the services' methods, well-known types left out. */
function messagesOf(services: DescService[]): DescMessage[] {
  const found = new Map<string, DescMessage>();
  const visit = (desc: DescMessage) => {
    if (found.has(desc.typeName) || desc.typeName.startsWith("google.protobuf.")) return;
    found.set(desc.typeName, desc);
    for (const field of desc.fields) if (field.message !== undefined) visit(field.message);
  };
  for (const service of services) {
    for (const method of service.methods) {
      visit(method.input);
      visit(method.output);
    }
  }
  return [...found.values()];
}

const Opt = Label.OPTIONAL;
function field(name: string, number: number, type: Type, extra: Record<string, unknown> = {}) {
  return {
    name,
    number,
    type,
    label: Opt,
    jsonName: name.replace(/_(.)/g, (_, c) => c.toUpperCase()),
    ...extra,
  };
}
const repeated = { label: Label.REPEATED };

/**
 * everyKind is a synthetic proto3 message with each field shape toJson handles: every
 * scalar type with implicit and explicit presence, enums, a oneof, lists and maps of each
 * kind (string, integer and bool keys), nested and recursive messages, Timestamp,
 * Duration, a wrapper, Struct, `jstype = JS_STRING` 64-bit integers, a json_name, and a
 * message whose JSON name JavaScript would reorder.
 */
const everyKind = (() => {
  const scalars: [string, Type][] = [
    ["double", Type.DOUBLE],
    ["float", Type.FLOAT],
    ["int64", Type.INT64],
    ["uint64", Type.UINT64],
    ["int32", Type.INT32],
    ["fixed64", Type.FIXED64],
    ["fixed32", Type.FIXED32],
    ["bool", Type.BOOL],
    ["string", Type.STRING],
    ["bytes", Type.BYTES],
    ["uint32", Type.UINT32],
    ["sfixed32", Type.SFIXED32],
    ["sfixed64", Type.SFIXED64],
    ["sint32", Type.SINT32],
    ["sint64", Type.SINT64],
  ];
  const fields: Record<string, unknown>[] = [];
  const oneofDecl: { name: string }[] = [{ name: "choice" }];
  let n = 1;
  for (const [name, type] of scalars) {
    fields.push(field(`s_${name}`, n++, type));
    oneofDecl.push({ name: `_o_${name}` });
    fields.push(
      field(`o_${name}`, n++, type, { oneofIndex: oneofDecl.length - 1, proto3Optional: true }),
    );
    fields.push(field(`r_${name}`, n++, type, repeated));
  }
  const entry = (name: string, key: Type, value: Type, typeName?: string) => ({
    name,
    field: [field("key", 1, key), field("value", 2, value, typeName ? { typeName } : {})],
    options: { mapEntry: true },
  });
  const nestedType = [
    entry("MStrEntry", Type.STRING, Type.STRING),
    entry("MInt64Entry", Type.STRING, Type.INT64),
    entry("MEnumEntry", Type.STRING, Type.ENUM, ".pj.E"),
    entry("MMsgEntry", Type.STRING, Type.MESSAGE, ".pj.Inner"),
    entry("MInt32KeyEntry", Type.INT32, Type.STRING),
    entry("MBoolKeyEntry", Type.BOOL, Type.STRING),
  ];
  const map = (name: string, entryName: string) =>
    field(name, n++, Type.MESSAGE, { ...repeated, typeName: `.pj.All.${entryName}` });
  fields.push(
    map("m_str", "MStrEntry"),
    map("m_int64", "MInt64Entry"),
    map("m_enum", "MEnumEntry"),
    map("m_msg", "MMsgEntry"),
    map("m_int32_key", "MInt32KeyEntry"),
    map("m_bool_key", "MBoolKeyEntry"),
    field("e", n++, Type.ENUM, { typeName: ".pj.E" }),
    field("r_e", n++, Type.ENUM, { typeName: ".pj.E", ...repeated }),
    field("inner", n++, Type.MESSAGE, { typeName: ".pj.Inner" }),
    field("r_inner", n++, Type.MESSAGE, { typeName: ".pj.Inner", ...repeated }),
    field("ts", n++, Type.MESSAGE, { typeName: ".google.protobuf.Timestamp" }),
    field("r_ts", n++, Type.MESSAGE, { typeName: ".google.protobuf.Timestamp", ...repeated }),
    field("dur", n++, Type.MESSAGE, { typeName: ".google.protobuf.Duration" }),
    field("wrap", n++, Type.MESSAGE, { typeName: ".google.protobuf.StringValue" }),
    field("st", n++, Type.MESSAGE, { typeName: ".google.protobuf.Struct" }),
    field("js_int64", n++, Type.INT64, { options: { jstype: JSType.JS_STRING } }),
    field("r_js_uint64", n++, Type.UINT64, { ...repeated, options: { jstype: JSType.JS_STRING } }),
    field("custom", n++, Type.STRING, { jsonName: "CustomName" }),
    field("odd", n++, Type.MESSAGE, { typeName: ".pj.Odd" }),
    field("c_str", n++, Type.STRING, { oneofIndex: 0 }),
    field("c_msg", n++, Type.MESSAGE, { typeName: ".pj.Inner", oneofIndex: 0 }),
    field("c_enum", n++, Type.ENUM, { typeName: ".pj.E", oneofIndex: 0 }),
    field("c_int64", n++, Type.INT64, { oneofIndex: 0 }),
    field("c_wrap", n++, Type.MESSAGE, { typeName: ".google.protobuf.StringValue", oneofIndex: 0 }),
  );
  // Declared out of number order: toJson writes fields in number order.
  fields.reverse();
  const file = create(FileDescriptorProtoSchema, {
    name: "pj.proto",
    package: "pj",
    syntax: "proto3",
    dependency: [
      "google/protobuf/timestamp.proto",
      "google/protobuf/duration.proto",
      "google/protobuf/wrappers.proto",
      "google/protobuf/struct.proto",
    ],
    enumType: [
      {
        name: "E",
        value: [
          { name: "E_ZERO", number: 0 },
          { name: "E_ONE", number: 1 },
          { name: "E_TWO", number: 2 },
        ],
      },
    ],
    messageType: [
      { name: "All", field: fields, oneofDecl, nestedType },
      {
        name: "Inner",
        field: [
          field("name", 1, Type.STRING),
          field("all", 2, Type.MESSAGE, { typeName: ".pj.All" }),
        ],
      },
      { name: "Odd", field: [field("one", 1, Type.STRING, { jsonName: "1" })] },
    ],
  } as never);
  const deps = new Map(
    [
      file_google_protobuf_timestamp,
      file_google_protobuf_duration,
      file_google_protobuf_wrappers,
      file_google_protobuf_struct,
    ].map((f) => [f.name + ".proto", f]),
  );
  const all = createFileRegistry(file, (name) => deps.get(name)).getMessage("pj.All");
  if (all === undefined) throw new Error("synthetic message not built");
  return all;
})();

/** leftToToJson are the fields of everyKind whose shape the compiled writer leaves to toJson. */
const leftToToJson = ["mInt32Key", "mBoolKey", "wrap", "st", "jsInt64", "rJsUint64", "odd"];

/** stripLeft removes, at every depth of an init object, the fields left to toJson. */
function stripLeft(init: unknown): unknown {
  if (Array.isArray(init)) return init.map(stripLeft);
  if (typeof init !== "object" || init === null || init instanceof Uint8Array) return init;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(init)) {
    if (leftToToJson.includes(key)) continue;
    if (key === "choice" && (value as { case?: string } | undefined)?.case === "cWrap") continue;
    out[key] = stripLeft(value);
  }
  return out;
}

const serviceMessages = messagesOf([KmsAdminService, TrentService]);
const optionSets: ProtoJsonWriteOptions[] = [{}, { useProtoFieldName: true }];

describe("compileProtoJsonWriter agrees with toJson + JSON.stringify", () => {
  it("covers the messages of both services", () => {
    expect(
      serviceMessages.filter((d) => d.typeName.startsWith("kms.aws.v1.")).length,
    ).toBeGreaterThan(30);
    expect(
      serviceMessages.filter((d) => d.typeName.startsWith("kms.admin.v1.")).length,
    ).toBeGreaterThan(40);
  });

  for (const options of optionSets) {
    it(
      `writes every message of both services as the reflective path does, itself (${JSON.stringify(options)})`,
      () => {
        for (const desc of serviceMessages) {
          const write = compileProtoJsonWriter(desc, options);
          fc.assert(
            fc.property(messageArbitrary(desc), (init) => {
              const message = create(desc, init as never);
              const expected = reference(desc, message, options);
              expect("text" in expected).toBe(true);
              // Every shape the services use is compiled: the fast path answers itself.
              expect(write(message)).toBe((expected as { text: string }).text);
            }),
            fuzzSettings(25),
          );
        }
      },
      fuzzTestTimeoutMs,
    );

    it(
      `writes every field kind as the reflective path does, or leaves it to it (${JSON.stringify(options)})`,
      () => {
        const write = compileProtoJsonWriter(everyKind, options);
        let answered = 0;
        let left = 0;
        fc.assert(
          fc.property(messageArbitrary(everyKind), fc.boolean(), (init, plain) => {
            // Half the cases without the shapes left to toJson, so the fast path answers.
            const message = create(everyKind, (plain ? stripLeft(init) : init) as never);
            const fast = write(message);
            const expected = reference(everyKind, message, options);
            if (fast === undefined) {
              left++;
              return;
            }
            answered++;
            expect(expected).toEqual({ text: fast });
          }),
          fuzzSettings(200),
        );
        // Not vacuous: both the fast path and the fallback are exercised.
        expect(answered).toBeGreaterThan(20);
        expect(left).toBeGreaterThan(20);
      },
      fuzzTestTimeoutMs,
    );
  }
});

/** A value of a type no field holds, or of the wrong type for most fields. */
const hostileValue = fc.constantFrom<unknown>(
  undefined,
  null,
  7,
  -0,
  Number.NaN,
  1.5,
  2 ** 53,
  "",
  "7",
  "007",
  "x",
  true,
  false,
  0n,
  12n,
  [],
  ["x"],
  [null],
  {},
  { case: "cStr", value: 7 },
  { case: "cMsg", value: undefined },
  { $typeName: "pj.Inner", name: 7 },
  { $typeName: "wrong.Type" },
  new Uint8Array(0),
  new Uint8Array([1, 2, 3]),
  Object.create(null),
);

describe("compileProtoJsonWriter on hostile messages", () => {
  const targets: DescMessage[] = [
    everyKind,
    KmsAdminService.method.generateDataKey.output,
    TrentService.method.generateDataKey.output,
    TrentService.method.describeKey.output,
    KmsAdminService.method.describeKey.output,
  ];
  for (const desc of targets) {
    it(
      `${desc.typeName}: a field holding a wrong value is written as toJson writes it, or left to toJson`,
      () => {
        const write = compileProtoJsonWriter(desc);
        const names = [...new Set(desc.members.map((m) => m.localName))];
        let refused = 0;
        fc.assert(
          fc.property(
            messageArbitrary(desc),
            fc.constantFrom(...names),
            hostileValue,
            (init, name, value) => {
              const message = create(desc, init as never);
              (message as unknown as Record<string, unknown>)[name] = value;
              const fast = write(message);
              const expected = reference(desc, message, {});
              if ("error" in expected) {
                refused++;
                // toJson refuses it: the compiled writer must leave it, so the error is toJson's.
                expect(fast).toBeUndefined();
              } else if (fast !== undefined) {
                expect(fast).toBe(expected.text);
              }
            },
          ),
          fuzzSettings(150),
        );
        expect(refused).toBeGreaterThan(0);
      },
      fuzzTestTimeoutMs,
    );
  }

  it("answers the hot path's responses itself", () => {
    const gdk = TrentService.method.generateDataKey.output;
    const message = create(gdk, {
      keyId: "arn:aws:kms:us-east-1:000000000000:key/k",
      plaintext: new Uint8Array(32).fill(7),
      ciphertextBlob: new Uint8Array(90).fill(9),
    });
    const text = compileProtoJsonWriter(gdk)(message);
    expect(text).toBe(JSON.stringify(toJson(gdk, message)));
    expect(JSON.parse(text as string)).toHaveProperty("Plaintext");
    const admin = KmsAdminService.method.generateDataKey.output;
    const adminMessage = create(admin, { keyId: "k", plaintextKey: new Uint8Array([1, 2]) });
    expect(compileProtoJsonWriter(admin)(adminMessage)).toBe(
      JSON.stringify(toJson(admin, adminMessage)),
    );
  });

  it("leaves shapes it does not compile to toJson", () => {
    const fields = new Map(everyKind.fields.map((f) => [f.name, f] as [string, DescField]));
    expect(fields.size).toBeGreaterThan(60);
    const write = compileProtoJsonWriter(everyKind);
    const cases: Record<string, unknown>[] = [
      { mInt32Key: { 1: "a" } },
      { mBoolKey: { true: "a" } },
      { wrap: "w" },
      { st: { a: 1 } },
      { jsInt64: "007" },
      { odd: { one: "x" } },
    ];
    for (const init of cases) {
      const message = create(everyKind, init as never);
      expect(write(message)).toBeUndefined();
      expect(() => toJson(everyKind, message)).not.toThrow();
    }
    // And what it does compile, including an enum number no value names and -0.
    const plain = create(everyKind, {
      sString: "s",
      e: 7,
      sDouble: -0,
      mStr: { b: "1", 2: "x", a: "y" },
      custom: "c",
    } as never);
    expect(write(plain)).toBe(JSON.stringify(toJson(everyKind, plain)));
    // A `__proto__` map key, lost in toJson's object, and a Timestamp toJson refuses.
    const proto = create(everyKind, { mStr: { a: "1" } } as never);
    Object.defineProperty((proto as unknown as { mStr: object }).mStr, "__proto__", {
      value: "p",
      enumerable: true,
    });
    expect(write(proto)).toBe(JSON.stringify(toJson(everyKind, proto)));
    expect(write(proto)).toBe('{"mStr":{"a":"1"}}');
    const late = create(everyKind, { ts: { seconds: 10n ** 15n } } as never);
    expect(() => toJson(everyKind, late)).toThrow();
    expect(write(late)).toBeUndefined();
  });
});
