import { describe, expect, it } from "vitest";
import { type RestAnswer, signedFetch } from "../helpers/signed-fetch.js";
import {
  answerBoundMs,
  apiPrefix,
  expectAliveAndQuiet,
  expectRefused,
  expectRestError,
  type Http1Response,
  rawHttp1,
  rawRequest,
  signedRawPost,
  useHostileGateway,
  withDeadline,
} from "./hostile-harness.js";

// Hostile values inside well-framed requests: map keys that JavaScript treats
// specially (`__proto__`), integers written loosely, key ids made of dots,
// paging with limit=0, deeply nested JSON, bytes that are not UTF-8 in bodies
// and paths, and request ids. Each gets a well-formed 4xx or the correct
// answer, never a 5xx; a map key is bound exactly as sent or refused by name.

const keyId = "hostile-inputs";
const gw = useHostileGateway({
  async seed(started) {
    const created = await signedFetch(started.url, "POST", `${apiPrefix}/keys`, {
      body: JSON.stringify({ Tags: { name: keyId } }),
    });
    expect(created.status).toBe(200);
  },
});

/** rest sends one signed REST request with a raw (possibly hostile) JSON text body. */
function rest(method: string, path: string, body?: string): Promise<RestAnswer> {
  return withDeadline(
    signedFetch(gw.url, method, `${apiPrefix}${path}`, body === undefined ? {} : { body }),
    answerBoundMs,
    `${method} ${path}`,
  );
}

/** expectRestAnswerError asserts a RestAnswer is a well-formed REST error. */
function expectRestAnswerError(res: RestAnswer, status?: number) {
  return expectRestError({ status: res.status, headers: res.headers, body: res.text }, status);
}

/** connectJson sends a signed Connect JSON unary call with a raw body text. */
async function connectJson(method: string, body: string | Buffer) {
  const path = `/kms.admin.v1.KmsAdminService/${method}`;
  const { host: _, ...auth } = await signedRawPost(gw, path);
  const res = await withDeadline(
    fetch(new URL(path, gw.url), {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body,
    }),
    answerBoundMs,
    `Connect ${method}`,
  );
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text) as Record<string, unknown> };
}

describe("map keys JavaScript treats specially", () => {
  // Written as JSON text: a JavaScript object literal would turn "__proto__" into a prototype.
  const context = '{"__proto__":"X","bucket":"b1"}';

  it("REST: an encryption_context key __proto__ is bound, or the request is refused naming it", async () => {
    const res = await rest(
      "POST",
      "/generate-data-key",
      `{"key_id":"${keyId}","encryption_context":${context}}`,
    );
    if (res.status === 400) {
      expect(expectRestAnswerError(res, 400).message).toContain("__proto__");
      return;
    }
    expect(res.status, res.text).toBe(200);
    const blob = (res.json as { ciphertext_blob: string }).ciphertext_blob;
    const decrypt = (ctx: string) =>
      rest("POST", "/decrypt", `{"ciphertext_blob":"${blob}","encryption_context":${ctx}}`);
    expect((await decrypt(context)).status, "decrypt with the very same map").toBe(200);
    for (const other of ['{"bucket":"b1"}', '{"__proto__":"other","bucket":"b1"}']) {
      const answer = await decrypt(other);
      expect(answer.status, `decrypt with ${other}: ${answer.text}`).toBe(400);
      expect(expectRestAnswerError(answer, 400).code).toBe("InvalidCiphertext");
    }
  });

  it("Connect JSON: an encryptionContext key __proto__ is bound, or the call is refused naming it", async () => {
    const res = await connectJson(
      "GenerateDataKey",
      `{"keyId":"${keyId}","encryptionContext":${context}}`,
    );
    if (res.status === 400) {
      expect(res.json.code).toBe("invalid_argument");
      expect(String(res.json.message)).toContain("__proto__");
      return;
    }
    expect(res.status, res.text).toBe(200);
    const blob = res.json.ciphertextBlob as string;
    const decrypt = (ctx: string) =>
      connectJson("Decrypt", `{"ciphertextBlob":"${blob}","encryptionContext":${ctx}}`);
    expect((await decrypt(context)).status, "decrypt with the very same map").toBe(200);
    for (const other of ['{"bucket":"b1"}', '{"__proto__":"other","bucket":"b1"}']) {
      const answer = await decrypt(other);
      expect(answer.status, `decrypt with ${other}: ${answer.text}`).toBe(400);
      expect(answer.json.code).toBe("invalid_argument");
    }
  });

  it("REST: a tag named __proto__ is stored as sent, or the key is refused naming it", async () => {
    const res = await rest("POST", "/keys", '{"Tags":{"name":"proto-tag","__proto__":"x"}}');
    if (res.status === 400) {
      expect(expectRestAnswerError(res, 400).message).toContain("__proto__");
      return;
    }
    expect(res.status, res.text).toBe(200);
    const described = await rest("GET", "/keys/proto-tag");
    expect(described.status).toBe(200);
    const tags = (described.json as { key_metadata: { tags: Record<string, string> } }).key_metadata
      .tags;
    expect(Object.getOwnPropertyDescriptor(tags, "__proto__")?.value).toBe("x");
  });

  it("REST: keys constructor, toString, an empty string and unicode are bound exactly", async () => {
    const ctx = { constructor: "c", toString: "t", "": "empty", ключ: "значение" };
    const res = await rest(
      "POST",
      "/generate-data-key",
      JSON.stringify({ key_id: keyId, encryption_context: ctx }),
    );
    expect(res.status, res.text).toBe(200);
    const blob = (res.json as { ciphertext_blob: string }).ciphertext_blob;
    const decrypt = (c: Record<string, string>) =>
      rest("POST", "/decrypt", JSON.stringify({ ciphertext_blob: blob, encryption_context: c }));
    expect((await decrypt(ctx)).status).toBe(200);
    const { constructor: _, ...withoutConstructor } = ctx;
    expect((await decrypt(withoutConstructor)).status).toBe(400);
    expect((await decrypt({ ...ctx, "": "other" })).status).toBe(400);
  });
});

describe("loose integers", () => {
  it.each(['"0x7"', '" 7 "', '"7e0"', "7.5", '""', "true"])(
    "pending_window_in_days %s is a JSON 400",
    async (value) => {
      const id = `loose-${Buffer.from(value).toString("hex")}`;
      expect((await rest("POST", "/keys", JSON.stringify({ Tags: { name: id } }))).status).toBe(
        200,
      );
      const res = await rest(
        "DELETE",
        "/keys/delete",
        `{"key_id":"${id}","pending_window_in_days":${value}}`,
      );
      expect(expectRestAnswerError(res, 400).code).toBe("InvalidRequest");
    },
  );

  it.each(["7", '"7"'])("control: pending_window_in_days %s is accepted", async (value) => {
    const id = `strict-${Buffer.from(value).toString("hex")}`;
    expect((await rest("POST", "/keys", JSON.stringify({ Tags: { name: id } }))).status).toBe(200);
    const res = await rest(
      "DELETE",
      "/keys/delete",
      `{"key_id":"${id}","pending_window_in_days":${value}}`,
    );
    expect(res.status, res.text).toBe(200);
  });
});

describe("key ids made of dots", () => {
  it.each([".", "..", "..."])("creating key %j is a JSON 400", async (name) => {
    const res = await rest("POST", "/keys", JSON.stringify({ Tags: { name } }));
    expect(expectRestAnswerError(res, 400).code).toBe("InvalidRequest");
  });

  it("describing key ... by path is a JSON 400", async () => {
    const res = await rest("GET", "/keys/...");
    expect(expectRestAnswerError(res, 400).code).toBe("InvalidRequest");
  });

  // "." and ".." as path segments are removed by every URL parser before
  // signing, so a JSON body carries them verbatim.
  it.each([".", "..", "..."])("generate-data-key under key %j is a JSON 400", async (id) => {
    const res = await rest("POST", "/generate-data-key", JSON.stringify({ key_id: id }));
    expect(expectRestAnswerError(res, 400).code).toBe("InvalidRequest");
  });

  it.each([".", ".."])("Connect DescribeKey %j is invalid_argument", async (id) => {
    const res = await connectJson("DescribeKey", JSON.stringify({ keyId: id }));
    expect(res.status, res.text).toBe(400);
    expect(res.json.code).toBe("invalid_argument");
  });
});

describe("paging", () => {
  it("limit=0 is an empty page, and truncated implies a next_marker", async () => {
    const res = await withDeadline(
      signedFetch(gw.url, "GET", `${apiPrefix}/keys`, { query: { limit: "0" } }),
      answerBoundMs,
      "list limit=0",
    );
    expect(res.status, res.text).toBe(200);
    const page = res.json as { keys: unknown[]; truncated: boolean; next_marker: string | null };
    expect(page.keys).toEqual([]);
    if (page.truncated) expect(page.next_marker).toEqual(expect.any(String));
  });

  it("a 'while truncated' walk with limit=1 ends, seeing every key once", async () => {
    const seen: string[] = [];
    let marker: string | undefined;
    for (let pages = 0; pages < 100; pages++) {
      const query: Record<string, string> =
        marker === undefined ? { limit: "1" } : { limit: "1", marker };
      const res = await signedFetch(gw.url, "GET", `${apiPrefix}/keys`, { query });
      expect(res.status, res.text).toBe(200);
      const page = res.json as {
        keys: { key_id: string }[];
        truncated: boolean;
        next_marker: string | null;
      };
      seen.push(...page.keys.map((k) => k.key_id));
      if (!page.truncated) break;
      expect(page.next_marker).toEqual(expect.any(String));
      marker = page.next_marker as string;
    }
    expect(seen).toContain(keyId);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it.each(["-1", "abc", "1e3", "0x10", " 5", "5.0", "99999999999999999999"])(
    "limit=%j is a JSON 400",
    async (limit) => {
      const res = await signedFetch(gw.url, "GET", `${apiPrefix}/keys`, { query: { limit } });
      expect(expectRestAnswerError(res, 400).code).toBe("InvalidRequest");
    },
  );
});

describe("deep JSON", () => {
  const depth = 100_000;

  it.each([
    [
      "arrays",
      `{"key_id":"${keyId}","encryption_context":${"[".repeat(depth)}${"]".repeat(depth)}}`,
    ],
    [
      "objects",
      `{"key_id":"${keyId}","encryption_context":${'{"a":'.repeat(depth)}1${"}".repeat(depth)}}`,
    ],
    ["an unknown field", `{"x":${"[".repeat(depth)}${"]".repeat(depth)}}`],
  ])("REST: %s nested 100000 deep is a JSON 400", async (_, body) => {
    const res = await rest("POST", "/generate-data-key", body);
    expectRestAnswerError(res, 400);
  });

  it("Connect JSON: arrays nested 100000 deep are invalid_argument", async () => {
    const res = await connectJson(
      "GenerateDataKey",
      `{"keyId":"${keyId}","encryptionContext":${"[".repeat(depth)}${"]".repeat(depth)}}`,
    );
    expect(res.status, res.text).toBe(400);
    expect(res.json.code).toBe("invalid_argument");
  });
});

describe("bytes that are not UTF-8", () => {
  const notUtf8 = Buffer.concat([
    Buffer.from('{"key_id":"'),
    Buffer.from([0xff, 0xfe, 0xc0, 0xae]),
    Buffer.from('","encryption_context":{"k":"'),
    Buffer.from([0xed, 0xa0, 0x80]),
    Buffer.from('"}}'),
  ]);

  it("a REST body is a JSON 4xx", async () => {
    const path = `${apiPrefix}/generate-data-key`;
    const ex = await rawHttp1(
      gw.port,
      rawRequest(
        "POST",
        path,
        {
          ...(await signedRawPost(gw, path)),
          "content-type": "application/json",
          "content-length": String(notUtf8.length),
        },
        notUtf8,
      ),
      { responses: 1 },
    );
    expect(ex.responses.length, `no answer within ${answerBoundMs} ms`).toBe(1);
    expectRestError(ex.responses[0] as Http1Response);
  });

  it("a Connect JSON body is a 4xx", async () => {
    const res = await connectJson("GenerateDataKey", notUtf8);
    expect(res.status, res.text).toBeGreaterThanOrEqual(400);
    expect(res.status, res.text).toBeLessThan(500);
  });

  it.each(["%FF%FE", "%C0%AE%C0%AE", "%ED%A0%80", "%E0%A4%A", "%", "%zz"])(
    "a signed path segment %s is a JSON 4xx",
    async (segment) => {
      const res = await signedFetch(gw.url, "GET", `${apiPrefix}/keys/${segment}`);
      expectRestAnswerError(res);
    },
  );

  it("raw 0xff bytes in an unsigned request path are refused", async () => {
    const head = Buffer.concat([
      Buffer.from(`GET ${apiPrefix}/keys/`),
      Buffer.from([0xff, 0xfe]),
      Buffer.from(" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
    ]);
    const ex = await rawHttp1(gw.port, head, { responses: 1 });
    expectRefused(ex, { jsonWhenAnswered: true });
  });
});

describe("request ids", () => {
  it("a well-formed x-request-id is echoed", async () => {
    const res = await signedFetch(gw.url, "GET", `${apiPrefix}/status`, {
      headers: { "x-request-id": "client-id:42.a_b-c" },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toBe("client-id:42.a_b-c");
  });

  it.each([
    ["129 characters", "a".repeat(129)],
    ["spaces and markup", "<script> alert(1)"],
    ["a JSON log injection", '","level":"error'],
  ])("an x-request-id with %s is replaced by a fresh id", async (_, hostile) => {
    const ex = await rawHttp1(gw.port, rawRequest("GET", "/health", { "x-request-id": hostile }), {
      responses: 1,
    });
    const res = ex.responses[0] as Http1Response;
    expect(res.status).toBe(200);
    const id = res.headers["x-request-id"];
    expect(id, "x-request-id response header").toEqual(
      expect.stringMatching(/^[A-Za-z0-9._:-]{1,128}$/),
    );
    expect(id).not.toBe(hostile);
  });
});

it("is still alive, serves signed requests and logged no error", async () => {
  await expectAliveAndQuiet(gw);
});
