import { createContextValues } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { KmsAdminService } from "../../gen/kms/admin/v1/service_pb.js";
import { createRestTranscoder } from "../../src/rest/rest-transcoder.js";
import { fakeImplementation } from "./fake-implementation.js";

// Issue 5 items 1 and 6 on REST: fromJson would drop a `__proto__` map key
// and read "0x7" or "7e0" as 7; the decoder refuses both, naming the field.

const P = "/rustfs/admin/v3/kms";

function setup() {
  const { impl, calls } = fakeImplementation();
  const transcoder = createRestTranscoder({ service: KmsAdminService, implementation: impl });
  const send = async (method: string, target: string, body = "") => {
    const q = target.indexOf("?");
    const res = await transcoder.handle({
      method,
      rawPath: q < 0 ? target : target.slice(0, q),
      rawQuery: q < 0 ? "" : target.slice(q + 1),
      headers: new Headers({ host: "127.0.0.1" }),
      body: new TextEncoder().encode(body),
      contextValues: createContextValues(),
      signal: new AbortController().signal,
    });
    const text = res.body;
    return { status: res.status, json: text === "" ? undefined : (JSON.parse(text) as unknown) };
  };
  return { send, calls };
}

describe("REST map keys", () => {
  it.each([
    ["generate-data-key", `${P}/generate-data-key`, "encryption_context"],
    ["decrypt", `${P}/decrypt`, "encryption_context"],
    ["create-key (Tags)", `${P}/keys`, "Tags"],
    ["create-key (tags)", `${P}/keys`, "tags"],
  ])("refuses a __proto__ map key in %s with 400 naming it", async (_, path, field) => {
    const { send, calls } = setup();
    const extra = path.endsWith("/decrypt") ? '"ciphertext_blob":"AAAA",' : "";
    const res = await send("POST", path, `{${extra}"${field}":{"__proto__":"X","bucket":"b1"}}`);
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ code: "InvalidRequest" });
    expect((res.json as { message: string }).message).toMatch(/"__proto__"/);
    expect((res.json as { message: string }).message).toMatch(/encryption_context|tags/);
    expect(calls).toHaveLength(0);
  });

  it("binds constructor, toString and hasOwnProperty exactly", async () => {
    const { send, calls } = setup();
    const context = { constructor: "c", toString: "t", hasOwnProperty: "h", "": "", 名: "🔑" };
    const res = await send(
      "POST",
      `${P}/generate-data-key`,
      JSON.stringify({ key_id: "k", encryption_context: context }),
    );
    expect(res.status).toBe(200);
    const request = calls[0]?.request as unknown as { encryptionContext: Record<string, string> };
    expect(Object.entries(request.encryptionContext).sort()).toEqual(
      Object.entries(context).sort(),
    );
  });
});

describe("REST integers", () => {
  it.each(['"0x7"', '" 7 "', '"7e0"', '"7.0"', '"07"', '"+7"', '"0b111"', '"-0"', '""'])(
    "refuses pending_window_in_days %s with 400 naming the field",
    async (value) => {
      const { send, calls } = setup();
      const res = await send(
        "DELETE",
        `${P}/keys/delete`,
        `{"key_id":"k","pending_window_in_days":${value}}`,
      );
      expect(res.status).toBe(400);
      expect(res.json).toMatchObject({ code: "InvalidRequest" });
      expect((res.json as { message: string }).message).toMatch(/pending_window_in_days/);
      expect(calls).toHaveLength(0);
    },
  );

  it.each([
    ["7", 7],
    ['"7"', 7],
    ["7.0", 7],
    ["7e0", 7],
    ['"30"', 30],
  ])("accepts pending_window_in_days %s (a JSON number or a decimal string)", async (value, n) => {
    const { send, calls } = setup();
    const res = await send(
      "DELETE",
      `${P}/keys/delete`,
      `{"key_id":"k","pending_window_in_days":${value}}`,
    );
    expect(res.status).toBe(200);
    const request = calls[0]?.request as unknown as { pendingWindowInDays: number } | undefined;
    expect(request?.pendingWindowInDays).toBe(n);
  });

  it.each(["0x7", "7e0", "%207", "07", "-0"])("refuses ?limit=%s", async (value) => {
    const { send } = setup();
    const res = await send("GET", `${P}/keys?limit=${value}`);
    expect(res.status).toBe(400);
    expect((res.json as { message: string }).message).toMatch(/limit/);
  });

  it("refuses a loose integer string in a nested message too", async () => {
    const { send } = setup();
    const res = await send(
      "POST",
      `${P}/configure`,
      '{"backend_type":"local","cache_ttl_seconds":"0x10"}',
    );
    expect(res.status).toBe(400);
    expect((res.json as { message: string }).message).toMatch(/cache_ttl_seconds/);
  });
});

describe("REST JSON depth", () => {
  it("refuses a deeply nested body with 400 before parsing it", async () => {
    const { send, calls } = setup();
    const deep = `{"key_id":"k","encryption_context":${"[".repeat(200_000)}${"]".repeat(200_000)}}`;
    const res = await send("POST", `${P}/generate-data-key`, deep);
    expect(res.status).toBe(400);
    expect((res.json as { message: string }).message).toMatch(/nests deeper than 32 levels/);
    expect(calls).toHaveLength(0);
  });
});
