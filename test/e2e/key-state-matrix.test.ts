import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { describe, expect, it } from "vitest";
import { KmsAdminService } from "../../gen/kms/admin/v1/service_pb.js";
import { contractAdditiveFields } from "../helpers/expect-shape.js";
import { useGateway } from "../helpers/gateway-process.js";
import { signedFetch } from "../helpers/signed-fetch.js";
import { sigv4Interceptor } from "../helpers/sigv4-headers.js";

// The state × operation matrix of contract §6 against a real gateway: every
// key RPC on a key that is Enabled, Disabled or PendingDeletion, over REST
// and over gRPC (@connectrpc/connect's gRPC transport, h2c). Each cell
// asserts the status (HTTP and gRPC), that a refusal names the key's state,
// and the key's state afterwards as a describe over REST reports it.

const gw = useGateway();
const api = "/rustfs/admin/v3/kms";

type State = "Enabled" | "Disabled" | "PendingDeletion";
const STATES: State[] = ["Enabled", "Disabled", "PendingDeletion"];

/** Outcome is a cell's expectation: success (and the state after it) or 409. */
type Outcome = { ok: true; after: State } | { ok: false };
const ok = (after: State): Outcome => ({ ok: true, after });
const refused: Outcome = { ok: false };

type Client = ReturnType<typeof createClient<typeof KmsAdminService>>;

interface Operation {
  name: string;
  rest(id: string, blob: string): [method: string, path: string, body: unknown];
  grpc(client: Client, id: string, blob: string): Promise<unknown>;
  /** The top-level fields of a successful REST answer. */
  fields: string[];
  outcomes: Record<State, Outcome>;
}

const keyFields = ["key_metadata"];
const same: Record<State, Outcome> = {
  Enabled: ok("Enabled"),
  Disabled: ok("Disabled"),
  PendingDeletion: refused,
};
const enabledOnly: Record<State, Outcome> = {
  Enabled: ok("Enabled"),
  Disabled: refused,
  PendingDeletion: refused,
};
const bytes = (b64: string) => Buffer.from(b64, "base64");
const plaintext = Buffer.from("attack at dawn").toString("base64");

const operations: Operation[] = [
  {
    name: "DescribeKey",
    rest: (id) => ["GET", `${api}/keys/${id}`, undefined],
    grpc: (c, id) => c.describeKey({ keyId: id }),
    fields: keyFields,
    outcomes: {
      Enabled: ok("Enabled"),
      Disabled: ok("Disabled"),
      PendingDeletion: ok("PendingDeletion"),
    },
  },
  {
    name: "ScheduleKeyDeletion",
    rest: (id) => ["DELETE", `${api}/keys/delete`, { key_id: id, pending_window_in_days: 7 }],
    grpc: (c, id) => c.scheduleKeyDeletion({ keyId: id, pendingWindowInDays: 7 }),
    fields: keyFields,
    outcomes: {
      Enabled: ok("PendingDeletion"),
      Disabled: ok("PendingDeletion"),
      PendingDeletion: refused,
    },
  },
  {
    name: "CancelKeyDeletion",
    rest: (id) => ["POST", `${api}/keys/cancel-deletion`, { key_id: id }],
    grpc: (c, id) => c.cancelKeyDeletion({ keyId: id }),
    fields: keyFields,
    // The PendingDeletion keys of this matrix were Enabled before.
    outcomes: { Enabled: refused, Disabled: refused, PendingDeletion: ok("Enabled") },
  },
  {
    name: "EnableKey",
    rest: (id) => ["POST", `${api}/keys/enable`, { key_id: id }],
    grpc: (c, id) => c.enableKey({ keyId: id }),
    fields: keyFields,
    outcomes: { Enabled: ok("Enabled"), Disabled: ok("Enabled"), PendingDeletion: refused },
  },
  {
    name: "DisableKey",
    rest: (id) => ["POST", `${api}/keys/disable`, { key_id: id }],
    grpc: (c, id) => c.disableKey({ keyId: id }),
    fields: keyFields,
    outcomes: { Enabled: ok("Disabled"), Disabled: ok("Disabled"), PendingDeletion: refused },
  },
  {
    name: "RotateKey",
    rest: (id) => ["POST", `${api}/keys/rotate`, { key_id: id }],
    grpc: (c, id) => c.rotateKey({ keyId: id }),
    fields: keyFields,
    outcomes: enabledOnly,
  },
  {
    name: "UpdateKeyDescription",
    rest: (id) => ["POST", `${api}/keys/update-description`, { key_id: id, description: "new" }],
    grpc: (c, id) => c.updateKeyDescription({ keyId: id, description: "new" }),
    fields: keyFields,
    outcomes: same,
  },
  {
    name: "TagKey",
    rest: (id) => ["POST", `${api}/keys/tag`, { key_id: id, tags: { env: "prod" } }],
    grpc: (c, id) => c.tagKey({ keyId: id, tags: { env: "prod" } }),
    fields: keyFields,
    outcomes: same,
  },
  {
    name: "UntagKey",
    rest: (id) => ["POST", `${api}/keys/untag`, { key_id: id, tag_keys: ["team"] }],
    grpc: (c, id) => c.untagKey({ keyId: id, tagKeys: ["team"] }),
    fields: keyFields,
    outcomes: same,
  },
  {
    name: "GenerateDataKey",
    rest: (id) => ["POST", `${api}/generate-data-key`, { key_id: id }],
    grpc: (c, id) => c.generateDataKey({ keyId: id }),
    fields: ["ciphertext_blob", "key_id", "plaintext_key"],
    outcomes: enabledOnly,
  },
  {
    name: "GenerateDataKeyWithoutPlaintext",
    rest: (id) => ["POST", `${api}/generate-data-key-without-plaintext`, { key_id: id }],
    grpc: (c, id) => c.generateDataKeyWithoutPlaintext({ keyId: id }),
    fields: ["ciphertext_blob", "key_id"],
    outcomes: enabledOnly,
  },
  {
    name: "Encrypt",
    rest: (id) => ["POST", `${api}/encrypt`, { key_id: id, plaintext }],
    grpc: (c, id) => c.encrypt({ keyId: id, plaintext: bytes(plaintext) }),
    fields: ["ciphertext_blob", "key_id"],
    outcomes: enabledOnly,
  },
  {
    name: "Decrypt",
    rest: (_id, blob) => ["POST", `${api}/decrypt`, { ciphertext_blob: blob }],
    grpc: (c, _id, blob) => c.decrypt({ ciphertextBlob: bytes(blob) }),
    fields: ["key_id", "plaintext_key"],
    outcomes: enabledOnly,
  },
  {
    name: "ReEncrypt",
    rest: (_id, blob) => ["POST", `${api}/re-encrypt`, { ciphertext_blob: blob }],
    grpc: (c, _id, blob) => c.reEncrypt({ ciphertextBlob: bytes(blob) }),
    fields: ["ciphertext_blob", "key_id", "source_key_id"],
    outcomes: enabledOnly,
  },
];

async function rest(method: string, path: string, body?: unknown) {
  return signedFetch(gw.url, method, path, {
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** prepare creates a key, wraps a data key under it while Enabled, and brings it to `state`. */
async function prepare(id: string, state: State): Promise<string> {
  const created = await rest("POST", `${api}/keys`, { Tags: { name: id, team: "matrix" } });
  expect(created.status).toBe(200);
  const generated = await rest("POST", `${api}/generate-data-key`, { key_id: id });
  expect(generated.status).toBe(200);
  const blob = (generated.json as { ciphertext_blob: string }).ciphertext_blob;
  if (state === "Disabled") {
    expect((await rest("POST", `${api}/keys/disable`, { key_id: id })).status).toBe(200);
  } else if (state === "PendingDeletion") {
    const body = { key_id: id, pending_window_in_days: 7 };
    expect((await rest("DELETE", `${api}/keys/delete`, body)).status).toBe(200);
  }
  expect(await stateOf(id)).toBe(state);
  return blob;
}

async function stateOf(id: string): Promise<string> {
  const described = await rest("GET", `${api}/keys/${id}`);
  expect(described.status).toBe(200);
  return (described.json as { key_metadata: { key_state: string } }).key_metadata.key_state;
}

const cells = operations.flatMap((op) => STATES.map((state) => ({ op, state })));

/** The message of a refusal names the key's state (contract §4: words a caller can act on). */
function expectStateNamed(message: string, id: string, state: State): void {
  expect(message).toContain(`key "${id}" is ${state}`);
}

describe("state × operation over REST", () => {
  it.each(cells)("$op.name on a $state key", async ({ op, state }) => {
    const id = `rest-${op.name}-${state}`.toLowerCase();
    const blob = await prepare(id, state);
    const outcome = op.outcomes[state];
    const [method, path, body] = op.rest(id, blob);
    const answer = await rest(method, path, body);
    if (outcome.ok) {
      expect(answer.status, answer.text).toBe(200);
      // The fields contract §3 adds for RustFS clients (success, message, …) aside.
      const documented = Object.keys(answer.json as object).filter(
        (field) => !contractAdditiveFields.includes(field),
      );
      expect(documented.sort()).toEqual(op.fields);
      if (op.fields === keyFields) {
        const meta = (answer.json as { key_metadata: Record<string, unknown> }).key_metadata;
        expect(meta.key_id).toBe(id);
        expect(meta.key_state).toBe(outcome.after);
        expect(meta.enabled).toBe(outcome.after === "Enabled");
        // Only a rotation makes version 2, and only it sets a rotation date.
        const rotated = op.name === "RotateKey";
        expect(meta.key_version).toBe(rotated ? 2 : 1);
        expect(meta.rotation_date === null).toBe(!rotated);
      }
      expect(await stateOf(id)).toBe(outcome.after);
    } else {
      expect(answer.status, answer.text).toBe(409);
      const error = answer.json as { code: string; message: string };
      expect(error.code).toBe("Conflict");
      expectStateNamed(error.message, id, state);
      expect(await stateOf(id)).toBe(state);
    }
  });
});

describe("state × operation over gRPC", () => {
  const client = (): Client =>
    createClient(
      KmsAdminService,
      createGrpcTransport({ baseUrl: gw.url, interceptors: [sigv4Interceptor()] }),
    );

  it.each(cells)("$op.name on a $state key", async ({ op, state }) => {
    const id = `grpc-${op.name}-${state}`.toLowerCase();
    const blob = await prepare(id, state);
    const outcome = op.outcomes[state];
    let error: ConnectError | undefined;
    let answer: unknown;
    try {
      answer = await op.grpc(client(), id, blob);
    } catch (e) {
      error = ConnectError.from(e);
    }
    if (outcome.ok) {
      expect(error, error?.message).toBeUndefined();
      const meta = (answer as { keyMetadata?: { keyState: string; keyId: string } }).keyMetadata;
      if (op.fields === keyFields) {
        expect(meta?.keyId).toBe(id);
        expect(meta?.keyState).toBe(outcome.after);
      }
      expect(await stateOf(id)).toBe(outcome.after);
    } else {
      expect(error?.code).toBe(Code.FailedPrecondition);
      expect(error?.metadata.get("kms-error-code")).toBe("Conflict");
      expectStateNamed(error?.rawMessage ?? "", id, state);
      expect(await stateOf(id)).toBe(state);
    }
  });
});

describe("state details over REST", () => {
  it("cancel-deletion restores Disabled to a key that was Disabled before", async () => {
    const id = "cancel-restores-disabled";
    await prepare(id, "Disabled");
    const body = { key_id: id, pending_window_in_days: 7 };
    expect((await rest("DELETE", `${api}/keys/delete`, body)).status).toBe(200);
    const cancelled = await rest("POST", `${api}/keys/cancel-deletion`, { key_id: id });
    expect(cancelled.status).toBe(200);
    expect(cancelled.json).toMatchObject({
      key_metadata: { key_state: "Disabled", enabled: false, deletion_date: null },
    });
    expect(await stateOf(id)).toBe("Disabled");
  });

  it("an unknown key is 404 on every key RPC", async () => {
    for (const op of operations) {
      if (op.name === "Decrypt" || op.name === "ReEncrypt") continue;
      const [method, path, body] = op.rest("no-such-key", "");
      const answer = await rest(method, path, body);
      expect(answer.status, `${op.name}: ${answer.text}`).toBe(404);
      expect((answer.json as { code: string }).code).toBe("NotFound");
    }
  });
});
