import {
  type DescField,
  type DescMessage,
  equals,
  fromJson,
  type JsonObject,
  type JsonValue,
  toBinary,
} from "@bufbuild/protobuf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KmsAdminService } from "../../gen/kms/admin/v1/service_pb.js";
import { TrentService } from "../../gen/kms/aws/v1/trent_service_pb.js";
import { compileRestJsonReader } from "../../src/rest/compiled-json-reader.js";
import { fuzzSettings, fuzzTestTimeoutMs } from "../helpers/fuzz-settings.js";
import { syntheticService } from "../rest/synthetic-service.js";

// The compiled reader is a fast path in front of fromJson: wherever it answers, its
// message must be exactly fromJson's (and fromJson must accept the input); wherever it
// does not, fromJson decides. Driven over every request type of the service with values
// of the right shape most of the time (so the fast path is taken) and of every other
// shape the rest of the time.

// Plus the synthetic request type of the transcoder tests, which has the field kinds the KMS
// proto lacks (bool, int32, double, int64, bytes, lists, a nested message).
const synthetic = syntheticService([{ name: "Get" }]).methods[0]?.input as DescMessage;
const inputs = [
  ...new Map(KmsAdminService.methods.map((m) => [m.input.typeName, m.input])).values(),
  synthetic,
];

/** A value of the shape the field wants, or close to it. */
function valueFor(field: DescField): fc.Arbitrary<JsonValue> {
  const text = fc.oneof(
    fc.string({ maxLength: 12 }),
    fc.constantFrom("bench-000000", "", "\ud800", "a\udfffb", "😀", "AES_256"),
  );
  switch (field.fieldKind) {
    case "scalar":
      return fc.oneof(
        text,
        fc.integer({ min: -5_000_000_000, max: 5_000_000_000 }),
        fc.constantFrom(0, -0, 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, -(2 ** 31), 1.5),
        fc.boolean(),
        fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b).toString("base64")),
        fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b).toString("base64url")),
        fc.constantFrom("QQ", "QR==", "Q===", "AAAA", "AA==", "7", "0x7"),
      );
    case "enum":
      return fc.oneof(
        fc.constantFrom(...field.enum.values.map((v) => v.name)),
        fc.constantFrom(0, 1, 99, "NOT_A_VALUE", "", null),
      );
    case "map":
      return fc.oneof(
        fc.dictionary(text, text, { maxKeys: 4 }),
        fc.dictionary(
          fc.string({ maxLength: 4 }),
          fc.oneof(text, fc.integer(), fc.constant(null)),
          {
            maxKeys: 3,
          },
        ),
        fc.constantFrom(null, [], "x"),
      );
    default:
      return fc.oneof(fc.constant(null), fc.constant({}), fc.array(text, { maxLength: 2 }), text);
  }
}

/** A JSON object for the message: known fields by either name, sometimes both, sometimes unknown keys. */
function objectFor(desc: DescMessage): fc.Arbitrary<JsonObject> {
  const entries = desc.fields.map((field) =>
    fc.tuple(
      fc.constantFrom("absent", "name", "jsonName", "both"),
      valueFor(field),
      valueFor(field),
    ),
  );
  return fc
    .tuple(
      fc.tuple(...entries),
      fc.option(fc.constantFrom("unknown", "keyId", "KEYID"), { freq: 5 }),
    )
    .map(([picked, extra]) => {
      const json: JsonObject = {};
      picked.forEach(([how, a, b], i) => {
        const field = desc.fields[i] as DescField;
        if (how === "name" || how === "both") json[field.name] = a;
        if (how === "jsonName" || how === "both") json[field.jsonName] = b;
      });
      if (extra !== null) json[extra] = "x";
      return json;
    });
}

/**
 * checkAgainstFromJson drives `read` with random objects of `desc`: wherever it answers, its
 * message must be fromJson's (with the same ignoreUnknownFields). Returns how often it answered.
 */
function checkAgainstFromJson(
  desc: DescMessage,
  read: ReturnType<typeof compileRestJsonReader>,
  ignoreUnknownFields: boolean,
  runs: number,
): number {
  let answered = 0;
  fc.assert(
    fc.property(objectFor(desc), (json) => {
      const fast = read(structuredClone(json));
      if (fast === undefined) return;
      answered++;
      const reference = fromJson(desc, json, { ignoreUnknownFields });
      expect(equals(desc, fast, reference)).toBe(true);
      expect(toBinary(desc, fast)).toEqual(toBinary(desc, reference));
    }),
    fuzzSettings(runs),
  );
  return answered;
}

describe("compileRestJsonReader agrees with fromJson", () => {
  for (const desc of inputs) {
    const read = compileRestJsonReader(desc);
    it(
      `${desc.name}: every answer is fromJson's, and fromJson accepts it`,
      () => {
        const answered = checkAgainstFromJson(desc, read, false, 300);
        // Not vacuous: the plain shapes do take the fast path (an empty object always does).
        // The synthetic type has too many kinds it leaves to fromJson for random objects to
        // hit; the unit test below drives its fast path.
        if (desc !== synthetic) expect(answered).toBeGreaterThan(0);
      },
      fuzzTestTimeoutMs,
    );
  }
});

// Connect's JSON (the screening of Connect, gRPC-JSON and gRPC-Web-JSON bodies) and the AWS
// JSON API call fromJson with ignoreUnknownFields, and so does their compiled reader: over
// every request type of both services, wherever it answers, its message is fromJson's.
const rpcInputs = [
  ...new Map(
    [...KmsAdminService.methods, ...TrentService.methods].map((m) => [m.input.typeName, m.input]),
  ).values(),
  synthetic,
];

const rpcAnswered = new Map<DescMessage, number>();

describe("compileRestJsonReader with ignoreUnknownFields agrees with fromJson", () => {
  it("covers the request types of both services", () => {
    expect(rpcInputs.filter((d) => d.typeName.startsWith("kms.aws.v1.")).length).toBeGreaterThan(
      15,
    );
  });
  for (const desc of rpcInputs) {
    const read = compileRestJsonReader(desc, { ignoreUnknownFields: true });
    it(
      `${desc.typeName}: every answer is fromJson's, and fromJson accepts it`,
      () => {
        rpcAnswered.set(desc, checkAgainstFromJson(desc, read, true, 150));
      },
      fuzzTestTimeoutMs,
    );
  }

  it("is not vacuous: the fast path answered for most request types", () => {
    // Random objects of a type with a message or list-of-messages field (CreateKey's
    // Tags, ReEncrypt's …) rarely avoid it; the unit test below drives those.
    const hit = [...rpcAnswered.values()].filter((n) => n > 0).length;
    expect(rpcAnswered.size).toBe(rpcInputs.length);
    expect(hit).toBeGreaterThan(rpcInputs.length * 0.75);
  });

  it("skips unknown keys, as fromJson does when told to, and still leaves the rest", () => {
    const generate = TrentService.method.generateDataKey.input;
    const read = compileRestJsonReader(generate, { ignoreUnknownFields: true });
    // Parsed, as the adapters parse a body: `__proto__` is then an own (unknown) key.
    const json = JSON.parse(
      '{"KeyId":"alias/bench","KeySpec":"AES_256","EncryptionContext":{"bucket":"b"},' +
        '"GrantTokens":["t1","t2"],"NumberOfBytes":32,"Unknown":{"deep":[1,2]},"__proto__":"x"}',
    ) as JsonObject;
    const fast = read(json);
    expect(fast).toBeDefined();
    expect(
      equals(generate, fast as never, fromJson(generate, json, { ignoreUnknownFields: true })),
    ).toBe(true);
    // Without the option an unknown key is fromJson's to refuse.
    expect(compileRestJsonReader(generate)({ KeyId: "k", Unknown: 1 })).toBeUndefined();
    expect(read({ KeyId: "k", key_id: "k" })).toBeUndefined();
    expect(read({ GrantTokens: [null] })).toBeUndefined();
    expect(read({ Recipient: {} })).toBeUndefined();
  });
});

describe("compileRestJsonReader on the hot path's requests", () => {
  const generate = KmsAdminService.method.generateDataKey.input;
  const decrypt = KmsAdminService.method.decrypt.input;

  it("reads generate-data-key and decrypt bodies as fromJson does", () => {
    const bodies: Array<[DescMessage, JsonObject]> = [
      [generate, { key_id: "bench-000000" }],
      [generate, { keyId: "k", key_spec: "AES_128", encryption_context: { bucket: "b", "": "" } }],
      [decrypt, { ciphertext_blob: Buffer.from("blob bytes").toString("base64") }],
      [decrypt, { ciphertextBlob: "AAAA", encryptionContext: { a: "1" } }],
    ];
    for (const [desc, json] of bodies) {
      const fast = compileRestJsonReader(desc)(json);
      expect(fast).toBeDefined();
      expect(equals(desc, fast as never, fromJson(desc, json))).toBe(true);
    }
  });

  it("reads booleans, 32-bit integers, string lists and maps as fromJson does, and leaves the rest", () => {
    const read = compileRestJsonReader(synthetic);
    const json: JsonObject = {
      id: "x",
      flag: true,
      count: -7,
      labels: { a: "b" },
      data: "AAAA",
      names: ["n", ""],
    };
    const fast = read(json);
    expect(fast).toBeDefined();
    expect(equals(synthetic, fast as never, fromJson(synthetic, json))).toBe(true);
    const others: JsonObject[] = [
      { count: "7" },
      { count: 2 ** 31 },
      { ratio: 1.5 },
      { names: ["a", 1] },
      { names: ["\ud800"] },
      { names: "a" },
    ];
    for (const other of others) {
      expect(read(other)).toBeUndefined();
    }
    expect(read({ bigNum: 1 })).toBeUndefined();
    expect(read({ inner: { name: "n" } })).toBeUndefined();
  });

  it("leaves to fromJson what it does not read: duplicates, unknown keys, nulls, other encodings", () => {
    const read = compileRestJsonReader(generate);
    expect(read({ key_id: "a", keyId: "a" })).toBeUndefined();
    expect(read({ key_id: "a", unknown: 1 })).toBeUndefined();
    expect(read({ key_id: null })).toBeUndefined();
    expect(read({ key_id: 7 })).toBeUndefined();
    expect(read({ key_id: "\ud800" })).toBeUndefined();
    expect(read({ encryption_context: { a: 1 } })).toBeUndefined();
    const readDecrypt = compileRestJsonReader(decrypt);
    expect(readDecrypt({ ciphertext_blob: "AAA" })).toBeUndefined();
    expect(readDecrypt({ ciphertext_blob: "-_-_" })).toBeUndefined();
  });
});
