import { readFileSync } from "node:fs";
import { connect as http2Connect } from "node:http2";
import { promisify } from "node:util";
import { brotliCompressSync, createGzip, gzipSync, constants as zlibConstants } from "node:zlib";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import {
  compressionBrotli,
  compressionGzip,
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CreateKeyRequestSchema,
  DecryptRequestSchema,
  GenerateDataKeyRequestSchema,
  KmsAdminService,
} from "../../gen/kms/admin/v1/service_pb.js";
import { type GatewayProcess, startGateway } from "../helpers/gateway-process.js";
import { grpcEnvelope } from "../helpers/grpc-envelope.js";
import { readH2Answer } from "../helpers/h2-answer.js";
import { signedFetch } from "../helpers/signed-fetch.js";
import { signRpc, sigv4Interceptor } from "../helpers/sigv4-headers.js";

// Issue 5 items 1, 5 and 6 against a real gateway process, on every protocol:
// map keys named like Object.prototype members are refused (`__proto__`,
// which protobuf-es maps cannot hold) or bound exactly (the others); binary
// that does not parse, bad frames and unsupported encodings are the caller's
// fault (InvalidArgument), gzip and br bodies work and inflate to at most
// 1 MiB; and an unsigned caller gets Unauthenticated whatever its body.

let gw: GatewayProcess;
const KEY = "screen";
beforeAll(async () => {
  gw = await startGateway();
  const created = await signedFetch(gw.url, "POST", "/rustfs/admin/v3/kms/keys", {
    body: JSON.stringify({ Tags: { name: KEY } }),
  });
  expect(created.status).toBe(200);
});
afterAll(async () => {
  await gw?.stop();
});

const service = "/kms.admin.v1.KmsAdminService";
type Framing = "connect+json" | "connect+proto" | "grpc" | "grpc-web";
const framings: Framing[] = ["connect+json", "connect+proto", "grpc", "grpc-web"];
const contentTypes: Record<Framing, string> = {
  "connect+json": "application/json",
  "connect+proto": "application/proto",
  grpc: "application/grpc+proto",
  "grpc-web": "application/grpc-web+proto",
};

/** RpcAnswer is a raw RPC answer reduced to its status: a Connect code name or a gRPC number. */
interface RpcAnswer {
  httpStatus: number;
  /** The Connect code string (`invalid_argument`) or the grpc-status number as a string. */
  code: string;
  message: string;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * rawRpc posts raw bytes to an RPC over h2c, signed (UNSIGNED-PAYLOAD) unless
 * told not to, so tests can send what no well-behaved client would.
 */
async function rawRpc(
  framing: Framing,
  rpc: string,
  message: Uint8Array,
  options: {
    signed?: boolean;
    headers?: Record<string, string>;
    framed?: Uint8Array;
    service?: string;
  } = {},
): Promise<RpcAnswer> {
  const path = `${options.service ?? service}/${rpc}`;
  const signed = options.signed === false ? {} : await signRpc(`${gw.url}${path}`);
  const grpcLike = framing === "grpc" || framing === "grpc-web";
  const body = options.framed ?? (grpcLike ? grpcEnvelope(message) : message);
  const session = http2Connect(gw.url);
  try {
    const stream = session.request({
      ":method": "POST",
      ":path": path,
      "content-type": contentTypes[framing],
      ...(framing === "grpc" ? { te: "trailers" } : {}),
      ...signed,
      ...options.headers,
    });
    const answer = readH2Answer(stream);
    stream.end(body);
    const { head: headers, body: data, trailers } = await answer;
    const status = Number(headers[":status"]);
    if (framing === "connect+json" || framing === "connect+proto") {
      const json =
        status === 200 ? { code: "ok", message: "" } : (JSON.parse(data.toString()) as never);
      const { code, message } = json as { code: string; message?: string };
      return { httpStatus: status, code, message: message ?? "", headers };
    }
    let meta: Record<string, string | string[] | undefined> = { ...headers, ...trailers };
    if (framing === "grpc-web") {
      // The trailers travel as the last frame (flag 0x80) of the body.
      for (let at = 0; at + 5 <= data.length; ) {
        const length = data.readUInt32BE(at + 1);
        if ((data[at] ?? 0) & 0x80) {
          for (const line of data
            .subarray(at + 5, at + 5 + length)
            .toString()
            .split("\r\n")) {
            const colon = line.indexOf(":");
            if (colon > 0)
              meta = {
                ...meta,
                [line.slice(0, colon).toLowerCase()]: line.slice(colon + 1).trim(),
              };
          }
        }
        at += 5 + length;
      }
    }
    return {
      httpStatus: status,
      code: String(meta["grpc-status"]),
      message: decodeURIComponent(String(meta["grpc-message"] ?? "")),
      headers: meta,
    };
  } finally {
    session.close();
  }
}

/** expected is the status each framing answers for a Connect code. */
function expectCode(framing: Framing, answer: RpcAnswer, code: Code): void {
  if (framing.startsWith("connect")) {
    const names: Partial<Record<Code, [string, number]>> = {
      [Code.InvalidArgument]: ["invalid_argument", 400],
      [Code.Unauthenticated]: ["unauthenticated", 401],
      [Code.ResourceExhausted]: ["resource_exhausted", 429],
    };
    const [name, status] = names[code] ?? ["?", 0];
    expect({ code: answer.code, status: answer.httpStatus }).toEqual({ code: name, status });
  } else {
    expect(answer.httpStatus).toBe(200);
    expect(answer.code).toBe(String(code));
  }
}

/** withOwnKey returns `map` plus an own, enumerable entry `key` (even `__proto__`). */
function withOwnKey(map: Record<string, string>, key: string, value: string) {
  Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true });
  return map;
}

/** encode builds a request body in a framing's message encoding; JSON keeps `__proto__` as sent. */
function encode(framing: Framing, json: string, binary: () => Uint8Array): Uint8Array {
  return framing === "connect+json" ? new TextEncoder().encode(json) : binary();
}

const awkward = ["constructor", "toString", "hasOwnProperty"];

describe.each(framings)("map keys over %s", (framing) => {
  it("refuses __proto__ in encryption_context (GenerateDataKey, Decrypt) and in tags, naming it", async () => {
    const gdk = create(GenerateDataKeyRequestSchema, {
      keyId: KEY,
      encryptionContext: { bucket: "b1" },
    });
    withOwnKey(gdk.encryptionContext, "__proto__", "X");
    const dec = create(DecryptRequestSchema, { ciphertextBlob: new Uint8Array(40) });
    withOwnKey(dec.encryptionContext, "__proto__", "X");
    const ck = create(CreateKeyRequestSchema, {
      tags: { name: `proto-${framing.replace("+", "-")}` },
    });
    withOwnKey(ck.tags, "__proto__", "p");
    const cases: [string, Uint8Array, string][] = [
      [
        "GenerateDataKey",
        encode(
          framing,
          `{"keyId":"${KEY}","encryptionContext":{"__proto__":"X","bucket":"b1"}}`,
          () => toBinary(GenerateDataKeyRequestSchema, gdk),
        ),
        "encryption_context",
      ],
      [
        "Decrypt",
        encode(framing, '{"ciphertextBlob":"AAAA","encryptionContext":{"__proto__":"X"}}', () =>
          toBinary(DecryptRequestSchema, dec),
        ),
        "encryption_context",
      ],
      [
        "CreateKey",
        encode(framing, '{"Tags":{"name":"proto-json","__proto__":"p"}}', () =>
          toBinary(CreateKeyRequestSchema, ck),
        ),
        "tags",
      ],
    ];
    for (const [rpc, body, field] of cases) {
      const answer = await rawRpc(framing, rpc, body);
      expectCode(framing, answer, Code.InvalidArgument);
      expect(answer.message).toContain('"__proto__"');
      expect(answer.message).toContain(field);
    }
    // No key was created from the refused CreateKey.
    const listed = await signedFetch(gw.url, "GET", "/rustfs/admin/v3/kms/keys");
    expect(listed.text).not.toContain("proto-");
  });

  it("binds constructor, toString and hasOwnProperty exactly, across protocols", async () => {
    const context: Record<string, string> = { bucket: "b1" };
    for (const key of awkward) withOwnKey(context, key, `v-${key}`);
    const gdk = create(GenerateDataKeyRequestSchema, { keyId: KEY, encryptionContext: context });
    const answer = await rawRpc(
      framing,
      "GenerateDataKey",
      encode(framing, JSON.stringify({ keyId: KEY, encryptionContext: context }), () =>
        toBinary(GenerateDataKeyRequestSchema, gdk),
      ),
    );
    expect(answer.code).toBe(framing.startsWith("connect") ? "ok" : "0");
    // Made over this framing; decrypted over REST with the same map, and
    // refused with any one of the awkward entries missing or changed.
    const made = await signedFetch(gw.url, "POST", "/rustfs/admin/v3/kms/generate-data-key", {
      body: JSON.stringify({ key_id: KEY, encryption_context: context }),
    });
    const blob = (made.json as { ciphertext_blob: string }).ciphertext_blob;
    const client = createClient(KmsAdminService, transportFor(framing));
    const same = await client.decrypt({
      ciphertextBlob: Buffer.from(blob, "base64"),
      encryptionContext: { ...context },
    });
    expect(Buffer.from(same.plaintextKey).toString("base64")).toBe(
      (made.json as { plaintext_key: string }).plaintext_key,
    );
    for (const key of awkward) {
      const { [key]: _, ...missing } = context;
      for (const other of [missing, { ...context, [key]: "other" }]) {
        const refused = await client
          .decrypt({ ciphertextBlob: Buffer.from(blob, "base64"), encryptionContext: other })
          .then(
            () => undefined,
            (e: unknown) => ConnectError.from(e).code,
          );
        expect(refused).toBe(Code.InvalidArgument);
      }
    }
  });

  it("stores tags named constructor and toString exactly", async () => {
    const name = `awk-${framing.replace("+", "-")}`;
    const client = createClient(KmsAdminService, transportFor(framing));
    const tags = withOwnKey(withOwnKey({ name }, "constructor", "c"), "toString", "t");
    await client.createKey({ tags });
    const described = await signedFetch(gw.url, "GET", `/rustfs/admin/v3/kms/keys/${name}`);
    expect((described.json as { key_metadata: { tags: unknown } }).key_metadata.tags).toEqual({
      name,
      constructor: "c",
      toString: "t",
    });
  });
});

function transportFor(framing: Framing): Transport {
  const interceptors = [sigv4Interceptor()];
  switch (framing) {
    case "connect+json":
      return createConnectTransport({ baseUrl: gw.url, httpVersion: "2", interceptors });
    case "connect+proto":
      return createConnectTransport({
        baseUrl: gw.url,
        httpVersion: "2",
        useBinaryFormat: true,
        interceptors,
      });
    case "grpc":
      return createGrpcTransport({ baseUrl: gw.url, interceptors });
    case "grpc-web":
      return createGrpcWebTransport({ baseUrl: gw.url, httpVersion: "2", interceptors });
  }
}

describe("REST map keys against the real gateway", () => {
  it.each([
    ["generate-data-key", { key_id: KEY }, "encryption_context"],
    ["decrypt", { ciphertext_blob: "AAAA" }, "encryption_context"],
    ["keys", {}, "Tags"],
  ])("POST /kms/%s refuses a __proto__ map key with 400 naming it", async (path, fields, field) => {
    const body = `${JSON.stringify(fields).slice(0, -1)}${Object.keys(fields).length ? "," : ""}"${field}":{"__proto__":"X","bucket":"b1"}}`;
    const answer = await signedFetch(gw.url, "POST", `/rustfs/admin/v3/kms/${path}`, { body });
    expect(answer.status).toBe(400);
    expect(answer.json).toMatchObject({ code: "InvalidRequest" });
    expect((answer.json as { message: string }).message).toContain('"__proto__"');
  });

  it("stores Tags named constructor, toString and hasOwnProperty exactly", async () => {
    const Tags = { name: "awk-rest", constructor: "c", toString: "t", hasOwnProperty: "h" };
    const created = await signedFetch(gw.url, "POST", "/rustfs/admin/v3/kms/keys", {
      body: JSON.stringify({ Tags }),
    });
    expect(created.status).toBe(200);
    const described = await signedFetch(gw.url, "GET", "/rustfs/admin/v3/kms/keys/awk-rest");
    expect((described.json as { key_metadata: { tags: unknown } }).key_metadata.tags).toEqual(Tags);
  });

  it("binds constructor, toString and hasOwnProperty in an encryption context exactly", async () => {
    const context = { constructor: "c", toString: "t", hasOwnProperty: "h", bucket: "b1" };
    const made = await signedFetch(gw.url, "POST", "/rustfs/admin/v3/kms/generate-data-key", {
      body: JSON.stringify({ key_id: KEY, encryption_context: context }),
    });
    expect(made.status).toBe(200);
    const blob = (made.json as { ciphertext_blob: string }).ciphertext_blob;
    const decrypt = (encryption_context: object) =>
      signedFetch(gw.url, "POST", "/rustfs/admin/v3/kms/decrypt", {
        body: JSON.stringify({ ciphertext_blob: blob, encryption_context }),
      });
    expect((await decrypt(context)).status).toBe(200);
    expect((await decrypt({ bucket: "b1" })).status).toBe(400);
    expect((await decrypt({ ...context, constructor: "other" })).status).toBe(400);
  });
});

describe.each(framings.filter((f) => f !== "connect+json"))(
  "malformed binary over %s",
  (framing) => {
    const garbage = Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]);

    it("answers InvalidArgument when signed and Unauthenticated when not", async () => {
      const signed = await rawRpc(framing, "GenerateDataKey", garbage);
      expectCode(framing, signed, Code.InvalidArgument);
      expect(signed.message).toMatch(/not a valid kms\.admin\.v1\.GenerateDataKeyRequest/);
      const unsigned = await rawRpc(framing, "GenerateDataKey", garbage, { signed: false });
      expectCode(framing, unsigned, Code.Unauthenticated);
    });
  },
);

describe("public RPCs", () => {
  it("answers a malformed health check with InvalidArgument, not Internal", async () => {
    const garbage = Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    for (const framing of ["grpc", "connect+proto"] as const) {
      const answer = await rawRpc(framing, "Check", garbage, {
        service: "/grpc.health.v1.Health",
        signed: false,
      });
      expectCode(framing, answer, Code.InvalidArgument);
    }
    const fine = await rawRpc("grpc", "Check", new Uint8Array(), {
      service: "/grpc.health.v1.Health",
      signed: false,
    });
    expect(fine.code).toBe("0");
  });

  it("answers a malformed reflection stream message with InvalidArgument, not Internal", async () => {
    const garbage = Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    const answer = await rawRpc("grpc", "ServerReflectionInfo", garbage, {
      service: "/grpc.reflection.v1.ServerReflection",
      signed: false,
    });
    expectCode("grpc", answer, Code.InvalidArgument);
    expect(answer.message).toMatch(/not a valid grpc\.reflection\.v1\.ServerReflectionRequest/);
  });
});

describe.each(["grpc", "grpc-web"] as const)("bad frames over %s", (framing) => {
  it.each([
    ["a length prefix that lies (longer than the body)", Buffer.from([0, 0, 0, 0, 100, 1, 2])],
    ["a truncated header", Buffer.from([0, 0, 0])],
    [
      "two frames for a unary call",
      Buffer.concat([grpcEnvelope(new Uint8Array()), grpcEnvelope(new Uint8Array())]),
    ],
    [
      "a compressed frame without grpc-encoding",
      grpcEnvelope(gzipSync(Buffer.alloc(0)), { flag: 1 }),
    ],
    ["unknown flags", grpcEnvelope(new Uint8Array(), { flag: 0x42 })],
  ])("refuses %s with InvalidArgument (Unauthenticated when unsigned)", async (_, framed) => {
    const signed = await rawRpc(framing, "GetStatus", new Uint8Array(), { framed });
    expectCode(framing, signed, Code.InvalidArgument);
    const unsigned = await rawRpc(framing, "GetStatus", new Uint8Array(), {
      framed,
      signed: false,
    });
    expectCode(framing, unsigned, Code.Unauthenticated);
  });
});

describe("compression", () => {
  const request = () =>
    toBinary(GenerateDataKeyRequestSchema, create(GenerateDataKeyRequestSchema, { keyId: KEY }));

  it.each([
    ["connect+proto", "gzip"],
    ["connect+proto", "br"],
    ["grpc", "gzip"],
    ["grpc", "br"],
    ["grpc-web", "gzip"],
  ] as const)("serves %s requests compressed with %s", async (framing, encoding) => {
    const zipped = encoding === "gzip" ? gzipSync(request()) : brotliCompressSync(request());
    const headerName = framing === "connect+proto" ? "content-encoding" : "grpc-encoding";
    const answer = await rawRpc(framing, "GenerateDataKey", zipped, {
      headers: { [headerName]: encoding },
      ...(framing === "connect+proto" ? {} : { framed: grpcEnvelope(zipped, { flag: 1 }) }),
    });
    expect(answer.code).toBe(framing === "connect+proto" ? "ok" : "0");
  });

  it("serves connect-node clients that send gzip and br", async () => {
    for (const sendCompression of [compressionGzip, compressionBrotli]) {
      for (const transport of [
        createConnectTransport({
          baseUrl: gw.url,
          httpVersion: "2",
          sendCompression,
          compressMinBytes: 1,
          interceptors: [sigv4Interceptor()],
        }),
        createGrpcTransport({
          baseUrl: gw.url,
          sendCompression,
          compressMinBytes: 1,
          interceptors: [sigv4Interceptor()],
        }),
      ]) {
        const client = createClient(KmsAdminService, transport);
        const dk = await client.generateDataKey({ keyId: KEY, encryptionContext: { a: "b" } });
        expect(dk.plaintextKey).toHaveLength(32);
      }
    }
  });

  it("refuses a gzip bomb (100 MiB inflated) with ResourceExhausted, without inflating it all", async () => {
    const bomb = await gzipOfZeros(100 * 1024 * 1024);
    expect(bomb.byteLength).toBeLessThan(1024 * 1024);
    const cpuBefore = serverCpuMs();
    const connect = await rawRpc("connect+proto", "GenerateDataKey", bomb, {
      headers: { "content-encoding": "gzip" },
    });
    expectCode("connect+proto", connect, Code.ResourceExhausted);
    expect(connect.message).toMatch(/1048576 bytes after decompression/);
    const grpc = await rawRpc("grpc", "GenerateDataKey", bomb, {
      headers: { "grpc-encoding": "gzip" },
      framed: grpcEnvelope(bomb, { flag: 1 }),
    });
    expectCode("grpc", grpc, Code.ResourceExhausted);
    // The gateway's CPU time: inflating 100 MiB twice costs about two seconds
    // of CPU on these machines, stopping at 1 MiB a few milliseconds.
    expect(serverCpuMs() - cpuBefore).toBeLessThan(600);
  });

  it("refuses corrupt gzip with InvalidArgument", async () => {
    const answer = await rawRpc(
      "connect+proto",
      "GenerateDataKey",
      Buffer.from("not gzip at all"),
      {
        headers: { "content-encoding": "gzip" },
      },
    );
    expectCode("connect+proto", answer, Code.InvalidArgument);
  });

  it.each(["connect+proto", "connect+json", "grpc", "grpc-web"] as const)(
    "refuses another encoding over %s with a 4xx naming gzip and br",
    async (framing) => {
      const headerName = framing.startsWith("connect") ? "content-encoding" : "grpc-encoding";
      const answer = await rawRpc(framing, "GetStatus", new Uint8Array(), {
        headers: { [headerName]: "zstd" },
        ...(framing.startsWith("connect")
          ? {}
          : { framed: grpcEnvelope(new Uint8Array(), { flag: 1 }) }),
      });
      expectCode(framing, answer, Code.InvalidArgument);
      expect(answer.message).toMatch(/supported encodings are gzip, br/);
    },
  );
});

describe("integers and key ids over Connect JSON and REST", () => {
  it.each(['"0x7"', '"7e0"', '" 7 "', '"7.0"'])(
    "pending_window_in_days %s is InvalidArgument naming the field, on both",
    async (value) => {
      const connect = await rawRpc(
        "connect+json",
        "ScheduleKeyDeletion",
        new TextEncoder().encode(`{"keyId":"${KEY}","pendingWindowInDays":${value}}`),
      );
      expectCode("connect+json", connect, Code.InvalidArgument);
      expect(connect.message).toMatch(/pending_window_in_days/);
      const rest = await signedFetch(gw.url, "DELETE", "/rustfs/admin/v3/kms/keys/delete", {
        body: `{"key_id":"${KEY}","pending_window_in_days":${value}}`,
      });
      expect(rest.status).toBe(400);
      expect((rest.json as { message: string }).message).toMatch(/pending_window_in_days/);
    },
  );

  it.each([".", ".."])("key id %j is 400 on REST and InvalidArgument over Connect", async (id) => {
    // In a body, since URL parsers remove `.` and `..` path segments (even as %2E).
    for (const [method, path, body] of [
      ["POST", "keys", { Tags: { name: id } }],
      ["DELETE", "keys/delete", { key_id: id }],
      ["POST", "keys/cancel-deletion", { key_id: id }],
      ["POST", "generate-data-key", { key_id: id }],
    ] as const) {
      const answer = await signedFetch(gw.url, method, `/rustfs/admin/v3/kms/${path}`, {
        body: JSON.stringify(body),
      });
      expect(answer.status, path).toBe(400);
      expect((answer.json as { message: string }).message).toMatch(/only dots/);
    }
    const client = createClient(KmsAdminService, transportFor("connect+proto"));
    const refused = await client.describeKey({ keyId: id }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(refused?.code).toBe(Code.InvalidArgument);
    expect(refused?.rawMessage).toMatch(/only dots/);
  });
});

describe.each([
  ["connect+json", "application/json"],
  ["grpc", "application/grpc+json"],
  ["grpc-web", "application/grpc-web+json"],
] as const)("JSON errors over %s (%s) never echo what the caller sent", (framing, contentType) => {
  // A value in the wrong place may be a secret (a master key typed as a number,
  // a key pasted where a blob goes): the answer names the field, never the value,
  // as REST's does. JSON.parse's own messages quote the text, so they are not used.
  const secret = "S3cr3tV4lue0123456789";
  it.each([
    [
      "a master key typed as a number",
      "Configure",
      '{"config":{"backendType":"local","masterKey":918273645546372819}}',
      "918273645546372819",
      /master_?[kK]ey/,
    ],
    [
      "text that is not JSON",
      "Configure",
      `{"config":{"masterKey":"${secret}`,
      secret,
      /not valid JSON/,
    ],
    [
      "a secret where base64 goes",
      "Decrypt",
      `{"ciphertextBlob":"${secret}!!"}`,
      secret,
      /ciphertext_?[bB]lob/,
    ],
    ["a secret where a number goes", "ListKeys", `{"limit":"${secret}"}`, secret, /limit/],
  ])("%s", async (_, rpc, body, echo, names) => {
    const answer = await rawRpc(framing, rpc, new TextEncoder().encode(body), {
      headers: { "content-type": contentType },
    });
    expectCode(framing, answer, Code.InvalidArgument);
    expect(answer.message).toMatch(names);
    expect(answer.message).not.toContain(echo);
    expect(JSON.stringify(answer.headers)).not.toContain(echo);
  });
});

/** serverCpuMs is the gateway process's CPU time so far (user + system), from /proc. */
function serverCpuMs(): number {
  const stat = readFileSync(`/proc/${gw.child.pid}/stat`, "utf8");
  // Fields after the command name (which may hold spaces) start at index 2.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

/** gzipOfZeros compresses `size` zero bytes as a stream, never holding them all. */
async function gzipOfZeros(size: number): Promise<Buffer> {
  const gzip = createGzip({ level: zlibConstants.Z_BEST_COMPRESSION });
  const out: Buffer[] = [];
  gzip.on("data", (c: Buffer) => out.push(c));
  const done = new Promise((resolve) => gzip.on("end", resolve));
  const chunk = Buffer.alloc(1024 * 1024);
  const write = promisify(gzip.write.bind(gzip)) as (b: Buffer) => Promise<void>;
  for (let sent = 0; sent < size; sent += chunk.length) await write(chunk);
  gzip.end();
  await done;
  return Buffer.concat(out);
}
