import { createContextValues } from "@connectrpc/connect";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KmsAdminService } from "../../gen/kms/admin/v1/service_pb.js";
import { createRestTranscoder } from "../../src/rest/rest-transcoder.js";
import { callerKey } from "../../src/service/caller.js";
import { createKmsAdminService } from "../../src/service/kms-admin-service.js";
import { createFixture } from "../engine/engine-fixture.js";
import { fuzzSettings, fuzzTestTimeoutMs } from "../helpers/fuzz-settings.js";
import { rootCaller } from "../helpers/root-caller.js";

// Issue 5 item 1 through REST, the service and the engine together: for
// random string maps, decrypt succeeds with the same map and fails with any
// map that differs in one entry — and a map with `__proto__` is refused with
// 400 naming it, never silently narrowed.

const P = "/rustfs/admin/v3/kms";

async function setup() {
  const { engine } = await createFixture();
  await engine.createKey({ tags: { name: "k" } });
  const rest = createRestTranscoder({
    service: KmsAdminService,
    implementation: createKmsAdminService(engine),
  });
  const post = async (path: string, body: string) => {
    const res = await rest.handle({
      method: "POST",
      rawPath: `${P}/${path}`,
      rawQuery: "",
      headers: new Headers({ host: "127.0.0.1" }),
      body: new TextEncoder().encode(body),
      contextValues: createContextValues().set(callerKey, rootCaller()),
      signal: new AbortController().signal,
    });
    const text = res.body;
    return { status: res.status, json: JSON.parse(text) as Record<string, string> };
  };
  return { post };
}

/** objectText writes a JSON object from entries, so `__proto__` stays an ordinary key. */
function objectText(entries: readonly (readonly [string, string])[]): string {
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(",")}}`;
}

const key = fc.oneof(
  fc.constantFrom("__proto__", "constructor", "toString", "hasOwnProperty", "", "名前", "🔑"),
  fc.string({ unit: "grapheme", maxLength: 10 }),
);
const value = fc.oneof(fc.constantFrom("", "X"), fc.string({ unit: "grapheme", maxLength: 10 }));
const entries = fc.uniqueArray(fc.tuple(key, value), { selector: ([k]) => k, maxLength: 6 });

describe("REST encryption-context binding (property)", () => {
  it(
    "binds every map exactly, or refuses __proto__ naming it",
    async () => {
      const { post } = await setup();
      await fc.assert(
        fc.asyncProperty(entries, fc.nat(), value, async (pairs, pick, other) => {
          const made = await post(
            "generate-data-key",
            `{"key_id":"k","encryption_context":${objectText(pairs)}}`,
          );
          if (pairs.some(([k]) => k === "__proto__")) {
            expect(made.status).toBe(400);
            expect(made.json.message).toContain('"__proto__"');
            return;
          }
          expect(made.status).toBe(200);
          const decrypt = (ctx: readonly (readonly [string, string])[]) =>
            post(
              "decrypt",
              `{"ciphertext_blob":"${made.json.ciphertext_blob}","encryption_context":${objectText(ctx)}}`,
            );
          const same = await decrypt([...pairs].reverse());
          expect(same.status).toBe(200);
          expect(same.json.plaintext_key).toBe(made.json.plaintext_key);
          if (pairs.length > 0) {
            const at = pick % pairs.length;
            const dropped = pairs.filter((_, i) => i !== at);
            const altered = pairs.map(([k, v], i) => [k, i === at ? `${v}${other}!` : v] as const);
            for (const changed of [dropped, altered]) {
              const refused = await decrypt(changed);
              expect(refused.status).toBe(400);
              expect(refused.json.code).toBe("InvalidCiphertext");
            }
          }
          const added = [...pairs, ["added-entry", other] as const].filter(
            ([k], i, all) => all.findIndex(([k2]) => k2 === k) === i,
          );
          if (added.length > pairs.length) {
            expect((await decrypt(added)).status).toBe(400);
          }
        }),
        fuzzSettings(60),
      );
    },
    fuzzTestTimeoutMs,
  );
});
