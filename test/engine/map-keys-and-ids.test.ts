import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeEncryptionContext } from "../../src/engine/encryption-context.js";
import { isValidKeyId } from "../../src/engine/key-id.js";
import { fuzzSettings, fuzzTestTimeoutMs } from "../helpers/fuzz-settings.js";
import { createFixture, expectKmsError } from "./engine-fixture.js";

// Issue 5 items 1 and 6 at the engine: map keys that collide with
// Object.prototype names are bound and stored exactly as given, and key ids
// made only of dots are refused by every operation that takes a key id.

/** mapWith builds a string map with own properties only, `__proto__` included. */
function mapWith(entries: readonly (readonly [string, string])[]): Record<string, string> {
  const map: Record<string, string> = Object.create(null);
  for (const [k, v] of entries) {
    Object.defineProperty(map, k, {
      value: v,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return map;
}

const awkwardKeys = ["__proto__", "constructor", "toString", "hasOwnProperty", "", "名前", "🔑"];

describe("map keys named like Object.prototype members", () => {
  it("binds __proto__, constructor, toString and hasOwnProperty in an encryption context", async () => {
    const { engine } = await createFixture();
    await engine.createKey({ tags: { name: "k" } });
    for (const key of ["__proto__", "constructor", "toString", "hasOwnProperty"]) {
      // JSON.parse makes `__proto__` an own property, as a decoded request would.
      const context = JSON.parse(`{${JSON.stringify(key)}:"X","bucket":"b1"}`);
      const dataKey = await engine.generateDataKey({ keyId: "k", encryptionContext: context });
      const ok = await engine.decrypt({
        ciphertextBlob: dataKey.ciphertextBlob,
        encryptionContext: JSON.parse(`{"bucket":"b1",${JSON.stringify(key)}:"X"}`),
      });
      expect(ok.plaintextKey).toEqual(dataKey.plaintextKey);
      for (const other of [
        { bucket: "b1" },
        JSON.parse(`{${JSON.stringify(key)}:"other","bucket":"b1"}`),
      ]) {
        await expectKmsError(
          engine.decrypt({ ciphertextBlob: dataKey.ciphertextBlob, encryptionContext: other }),
          "INVALID_CIPHERTEXT",
        );
      }
    }
  });

  it("stores tags named __proto__ and constructor exactly as given", async () => {
    const { engine } = await createFixture();
    const tags = JSON.parse('{"__proto__":"p","constructor":"c","name":"tagged"}');
    const created = await engine.createKey({ tags });
    expect(created.keyId).toBe("tagged");
    const described = await engine.describeKey("tagged");
    expect(Object.entries(described.tags).sort()).toEqual([
      ["__proto__", "p"],
      ["constructor", "c"],
      ["name", "tagged"],
    ]);
  });

  it("takes a key id from an own `name` tag only, never from the prototype", async () => {
    const { engine } = await createFixture();
    const created = await engine
      .createKey({ tags: JSON.parse('{"__proto__":{"name":"evil"}}') })
      .then(
        () => "accepted",
        () => "refused",
      );
    // A non-string tag value is refused; what matters is that no key "evil" exists.
    expect(created).toBe("refused");
    await expectKmsError(engine.describeKey("evil"), "KEY_NOT_FOUND");
  });

  it("encodes a context with __proto__ differently from the same context without it", () => {
    expect(encodeEncryptionContext(mapWith([["__proto__", "x"]]))).not.toEqual(
      encodeEncryptionContext({}),
    );
  });

  it(
    "property: decrypt succeeds with the same map and fails with any map differing in one entry",
    async () => {
      const { engine } = await createFixture();
      await engine.createKey({ tags: { name: "k" } });
      const key = fc.oneof(
        fc.constantFrom(...awkwardKeys),
        fc.string({ unit: "grapheme", maxLength: 12 }),
      );
      const value = fc.oneof(
        fc.constantFrom("", "X", "__proto__"),
        fc.string({ unit: "grapheme", maxLength: 12 }),
      );
      const entries = fc.uniqueArray(fc.tuple(key, value), {
        selector: ([k]) => k,
        maxLength: 8,
      });
      // One change: a value altered, an entry dropped, or an entry added.
      const change = fc.tuple(fc.nat(), fc.constantFrom("alter", "drop", "add"), key, value);
      await fc.assert(
        fc.asyncProperty(entries, change, async (pairs, [pick, kind, newKey, newValue]) => {
          const dataKey = await engine.generateDataKey({
            keyId: "k",
            encryptionContext: mapWith(pairs),
          });
          // The same map in another order decrypts.
          const same = await engine.decrypt({
            ciphertextBlob: dataKey.ciphertextBlob,
            encryptionContext: mapWith([...pairs].reverse()),
          });
          expect(same.plaintextKey).toEqual(dataKey.plaintextKey);

          const changed = pairs.map(([k, v]) => [k, v] as [string, string]);
          const at = pairs.length === 0 ? 0 : pick % pairs.length;
          if (kind === "alter" && pairs.length > 0) {
            const entry = changed[at] as [string, string];
            entry[1] = entry[1] === newValue ? `${newValue}!` : newValue;
          } else if (kind === "drop" && pairs.length > 0) {
            changed.splice(at, 1);
          } else {
            if (pairs.some(([k]) => k === newKey)) return; // not an addition
            changed.push([newKey, newValue]);
          }
          await expectKmsError(
            engine.decrypt({
              ciphertextBlob: dataKey.ciphertextBlob,
              encryptionContext: mapWith(changed),
            }),
            "INVALID_CIPHERTEXT",
          );
        }),
        fuzzSettings(150),
      );
    },
    fuzzTestTimeoutMs,
  );
});

describe("key ids made only of dots", () => {
  it("are not key ids, while dots among other characters still are", () => {
    for (const id of [".", "..", "...", ".".repeat(128)]) expect(isValidKeyId(id)).toBe(false);
    for (const id of ["a.b", ".a", "a..", "..a", "v1.2.3"]) expect(isValidKeyId(id)).toBe(true);
  });

  it("are refused with INVALID_ARGUMENT by every operation that takes a key id", async () => {
    const { engine } = await createFixture();
    for (const id of [".", ".."]) {
      await expectKmsError(
        engine.createKey({ tags: { name: id } }),
        "INVALID_ARGUMENT",
        /tags\.name/,
      );
      await expectKmsError(engine.describeKey(id), "INVALID_ARGUMENT", /only dots/);
      await expectKmsError(engine.scheduleKeyDeletion(id, 7), "INVALID_ARGUMENT", /only dots/);
      await expectKmsError(engine.cancelKeyDeletion(id), "INVALID_ARGUMENT", /only dots/);
      await expectKmsError(engine.generateDataKey({ keyId: id }), "INVALID_ARGUMENT", /only dots/);
      await expectKmsError(
        engine.reconfigure({ defaultKeyId: id }),
        "INVALID_ARGUMENT",
        /default_key_id/,
      );
    }
  });
});
