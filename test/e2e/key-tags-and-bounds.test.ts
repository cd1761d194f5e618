import { describe, expect, it } from "vitest";
import { useGateway } from "../helpers/gateway-process.js";
import { signedFetch } from "../helpers/signed-fetch.js";

// The name-tag rule, the bounds of issue 7 (each refusal a 400 naming the
// bound, with nothing changed) and the literal key routes, against a real
// gateway over REST.

const gw = useGateway({
  seed: async (g) => {
    const body = JSON.stringify({ Description: "bounded", Tags: { name: "bounded", team: "a" } });
    const created = await signedFetch(g.url, "POST", `${api}/keys`, { body });
    if (created.status !== 200) throw new Error(`seed failed: ${created.text}`);
  },
});
const api = "/rustfs/admin/v3/kms";

async function post(path: string, body: unknown) {
  return signedFetch(gw.url, "POST", `${api}${path}`, { body: JSON.stringify(body) });
}

async function metadata(id = "bounded"): Promise<Record<string, unknown>> {
  const answer = await signedFetch(gw.url, "GET", `${api}/keys/${id}`);
  expect(answer.status).toBe(200);
  return (answer.json as { key_metadata: Record<string, unknown> }).key_metadata;
}

function expect400(answer: { status: number; json: unknown; text: string }, message: RegExp) {
  expect(answer.status, answer.text).toBe(400);
  expect(answer.json).toMatchObject({
    code: "InvalidRequest",
    message: expect.stringMatching(message),
  });
}

const manyTags = (n: number, prefix = "t") =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, "v"]));

describe("the name tag", () => {
  it("cannot be changed or removed (400), and restating it changes nothing", async () => {
    expect400(
      await post("/keys/tag", { key_id: "bounded", tags: { name: "renamed" } }),
      /name tag cannot be changed/,
    );
    expect400(
      await post("/keys/untag", { key_id: "bounded", tag_keys: ["name"] }),
      /name tag cannot be removed/,
    );
    const restated = await post("/keys/tag", { key_id: "bounded", tags: { name: "bounded" } });
    expect(restated.status).toBe(200);
    expect((await metadata()).tags).toEqual({ name: "bounded", team: "a" });
  });
});

describe("bounds, each a 400 naming the bound", () => {
  it("description at most 8 KiB", async () => {
    const max = "d".repeat(8192);
    const ok = await post("/keys/update-description", { key_id: "bounded", description: max });
    expect(ok.status).toBe(200);
    expect400(
      await post("/keys/update-description", { key_id: "bounded", description: `${max}d` }),
      /description must be at most 8192 characters/,
    );
    expect400(await post("/keys/update-description", { key_id: "bounded" }), /required/);
    expect((await metadata()).description).toBe(max);
  });

  it("at most 50 tags, tag keys ≤ 128 and values ≤ 256 characters", async () => {
    expect((await post("/keys/tag", { key_id: "bounded", tags: manyTags(48) })).status).toBe(200);
    expect400(
      await post("/keys/tag", { key_id: "bounded", tags: { one: "more" } }),
      /at most 50 tags/,
    );
    expect400(
      await post("/keys/tag", { key_id: "bounded", tags: manyTags(51, "u") }),
      /at most 50 entries/,
    );
    expect400(
      await post("/keys/tag", { key_id: "bounded", tags: { ["k".repeat(129)]: "v" } }),
      /1-128 characters/,
    );
    expect400(
      await post("/keys/tag", { key_id: "bounded", tags: { t0: "v".repeat(257) } }),
      /at most 256 characters/,
    );
    expect400(
      await post("/keys/untag", { key_id: "bounded", tag_keys: Object.keys(manyTags(51)) }),
      /at most 50 entries/,
    );
    expect(Object.keys((await metadata()).tags as object)).toHaveLength(50);
    const untagged = await post("/keys/untag", { key_id: "bounded", tag_keys: ["t0", "t1"] });
    expect(untagged.status).toBe(200);
    expect(Object.keys((await metadata()).tags as object)).toHaveLength(48);
  });

  it("Encrypt plaintext at most 4 KiB", async () => {
    const b64 = (n: number) => Buffer.alloc(n, 1).toString("base64");
    const ok = await post("/encrypt", { key_id: "bounded", plaintext: b64(4096) });
    expect(ok.status, ok.text).toBe(200);
    expect400(
      await post("/encrypt", { key_id: "bounded", plaintext: b64(4097) }),
      /plaintext must be at most 4096 bytes/,
    );
    expect400(await post("/encrypt", { key_id: "bounded" }), /plaintext is required/);
  });

  it("encryption context at most 64 entries and 8 KiB, on every operation that takes one", async () => {
    const plaintext = Buffer.from("x").toString("base64");
    const entries = manyTags(65, "c");
    const big = { c: "x".repeat(8192) };
    for (const [path, extra] of [
      ["/encrypt", { plaintext }],
      ["/generate-data-key", {}],
      ["/generate-data-key-without-plaintext", {}],
    ] as const) {
      const base = { key_id: "bounded", ...extra };
      expect400(await post(path, { ...base, encryption_context: entries }), /at most 64 entries/);
      expect400(await post(path, { ...base, encryption_context: big }), /at most 8192 bytes/);
    }
    const blob = (
      (await post("/generate-data-key-without-plaintext", { key_id: "bounded" })).json as {
        ciphertext_blob: string;
      }
    ).ciphertext_blob;
    expect400(
      await post("/re-encrypt", { ciphertext_blob: blob, destination_encryption_context: entries }),
      /destination_encryption_context must have at most 64 entries/,
    );
    expect400(
      await post("/re-encrypt", { ciphertext_blob: blob, encryption_context: big }),
      /encryption_context must be at most 8192 bytes/,
    );
  });
});

describe("literal key routes win over /kms/keys/{key_id}", () => {
  it("POST /kms/keys/rotate rotates (it answered 405 before), on both prefixes", async () => {
    const rotated = await post("/keys/rotate", { key_id: "bounded" });
    expect(rotated.status, rotated.text).toBe(200);
    const version = (rotated.json as { key_metadata: { key_version: number } }).key_metadata
      .key_version;
    const again = await signedFetch(gw.url, "POST", "/minio/admin/v3/kms/keys/rotate", {
      body: JSON.stringify({ key_id: "bounded" }),
    });
    expect(again.status, again.text).toBe(200);
    expect(again.json).toMatchObject({ key_metadata: { key_version: version + 1 } });
  });

  it("GET still describes keys named like the literal routes; other methods get 405", async () => {
    for (const name of ["rotate", "enable", "tag"]) {
      const body = JSON.stringify({ Tags: { name } });
      expect((await signedFetch(gw.url, "POST", `${api}/keys`, { body })).status).toBe(200);
      expect((await metadata(name)).key_id).toBe(name);
    }
    const put = await signedFetch(gw.url, "PUT", `${api}/keys/rotate`, { body: "{}" });
    expect(put.status).toBe(405);
    expect(put.headers.get("allow")).toBe("GET, POST");
    const rotated = await post("/keys/rotate", { key_id: "rotate" });
    expect(rotated.json).toMatchObject({ key_metadata: { key_id: "rotate", key_version: 2 } });
  });
});
