import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GatewayProcess, startGateway, useGateway } from "../helpers/gateway-process.js";
import { signedFetch, testCredentials } from "../helpers/signed-fetch.js";
import {
  authzSpawn,
  credentialsOf,
  IDENTITIES,
  rootCall,
  writeIdentitiesFile,
} from "./authz-fixture.js";

// Issue 9 item 7: one well-formed line per audited call (allowed, denied or
// failed), none for reads, never a secret, plaintext, token or context value;
// and calls fail closed (500) when the line cannot be written.

const P = "/rustfs/admin/v3/kms";
const CONTEXT_VALUE = "finance-secret-bucket-7f3a";
const PLAINTEXT = "top-secret-plaintext-9c1e";
const VAULT_TOKEN = "hvs.VAULTTOKENSECRET0123456789";
const MASTER_KEY = "short-MASTER-SECRET";

const identities = writeIdentitiesFile();
const auditPath = join(mkdtempSync(join(tmpdir(), "kms-audit-")), "audit.log");
const gw = useGateway({ spawn: () => authzSpawn(identities, ["--audit-log", auditPath]) });

interface Call {
  id: string;
  who: string;
  method: string;
  path: string;
  body?: object;
  /** What the line must say; undefined: no line at all (a read). */
  line?: { action: string; outcome: string; keyIds?: string[]; errorCode?: string | null };
}

const auditLines = () =>
  readFileSync(auditPath, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe("the audit trail", () => {
  const answers = new Map<string, { status: number; text: string }>();
  const plaintexts: string[] = [];
  let calls: Call[];

  beforeAll(async () => {
    const ctx = { bucket: CONTEXT_VALUE };
    await rootCall(gw, "POST", `${P}/keys`, { Tags: { name: "audit-key" } });
    const made = await rootCall(gw, "POST", `${P}/generate-data-key`, {
      key_id: "audit-key",
      encryption_context: ctx,
    });
    plaintexts.push(made.plaintext_key as string);
    const blob = made.ciphertext_blob as string;
    const admin = "console-admin";
    const ok = (action: string, keyIds?: string[]) => ({
      action,
      outcome: "allowed",
      keyIds,
      errorCode: null,
    });
    calls = [
      {
        id: "a-create",
        who: admin,
        method: "POST",
        path: `${P}/keys`,
        body: { Tags: { name: "audit-2" } },
        line: ok("kms:CreateKey", ["audit-2"]),
      },
      {
        id: "a-gdk",
        who: admin,
        method: "POST",
        path: `${P}/generate-data-key`,
        body: { key_id: "audit-key", encryption_context: ctx },
        line: ok("kms:GenerateDataKey", ["audit-key"]),
      },
      {
        id: "a-gdkwp",
        who: admin,
        method: "POST",
        path: `${P}/generate-data-key-without-plaintext`,
        body: { key_id: "audit-key", encryption_context: ctx },
        line: ok("kms:GenerateDataKeyWithoutPlaintext", ["audit-key"]),
      },
      {
        id: "a-encrypt",
        who: admin,
        method: "POST",
        path: `${P}/encrypt`,
        body: {
          key_id: "audit-key",
          plaintext: Buffer.from(PLAINTEXT).toString("base64"),
          encryption_context: ctx,
        },
        line: ok("kms:Encrypt", ["audit-key"]),
      },
      {
        id: "a-decrypt",
        who: admin,
        method: "POST",
        path: `${P}/decrypt`,
        body: { ciphertext_blob: blob, encryption_context: ctx },
        line: ok("kms:Decrypt", ["audit-key"]),
      },
      {
        id: "a-reencrypt",
        who: admin,
        method: "POST",
        path: `${P}/re-encrypt`,
        body: {
          ciphertext_blob: blob,
          encryption_context: ctx,
          destination_key_id: "audit-2",
          destination_encryption_context: ctx,
        },
        line: ok("kms:ReEncrypt", ["audit-key", "audit-2"]),
      },
      {
        id: "a-rotate",
        who: admin,
        method: "POST",
        path: `${P}/keys/rotate`,
        body: { key_id: "audit-key" },
        line: ok("kms:RotateKey", ["audit-key"]),
      },
      {
        id: "a-tag",
        who: admin,
        method: "POST",
        path: `${P}/keys/tag`,
        body: { key_id: "audit-key", tags: { t: "v" } },
        line: ok("kms:TagResource", ["audit-key"]),
      },
      {
        id: "a-untag",
        who: admin,
        method: "POST",
        path: `${P}/keys/untag`,
        body: { key_id: "audit-key", tag_keys: ["t"] },
        line: ok("kms:UntagResource", ["audit-key"]),
      },
      {
        id: "a-desc",
        who: admin,
        method: "POST",
        path: `${P}/keys/update-description`,
        body: { key_id: "audit-key", description: "d" },
        line: ok("kms:UpdateKeyDescription", ["audit-key"]),
      },
      {
        id: "a-disable",
        who: admin,
        method: "POST",
        path: `${P}/keys/disable`,
        body: { key_id: "audit-2" },
        line: ok("kms:DisableKey", ["audit-2"]),
      },
      {
        id: "a-enable",
        who: admin,
        method: "POST",
        path: `${P}/keys/enable`,
        body: { key_id: "audit-2" },
        line: ok("kms:EnableKey", ["audit-2"]),
      },
      {
        id: "a-schedule",
        who: admin,
        method: "DELETE",
        path: `${P}/keys/delete`,
        body: { key_id: "audit-2", pending_window_in_days: 7 },
        line: ok("kms:DeleteKey", ["audit-2"]),
      },
      {
        id: "a-cancel",
        who: admin,
        method: "POST",
        path: `${P}/keys/cancel-deletion`,
        body: { key_id: "audit-2" },
        line: ok("kms:DeleteKey", ["audit-2"]),
      },
      {
        id: "a-clear",
        who: admin,
        method: "POST",
        path: `${P}/clear-cache`,
        body: {},
        line: ok("kms:ClearCache", []),
      },
      {
        id: "a-configure",
        who: admin,
        method: "POST",
        path: `${P}/configure`,
        body: {
          backend_type: "vault",
          address: "http://127.0.0.1:1",
          auth_method: { Token: { token: VAULT_TOKEN } },
        },
        line: { action: "kms:Configure", outcome: "failed" },
      },
      {
        id: "a-rekey",
        who: admin,
        method: "POST",
        path: `${P}/rekey`,
        body: { master_key: MASTER_KEY },
        line: ok("kms:Configure", []),
      },
      {
        id: "a-stop",
        who: admin,
        method: "POST",
        path: `${P}/stop`,
        body: {},
        line: ok("kms:ServiceControl", []),
      },
      {
        id: "a-start",
        who: admin,
        method: "POST",
        path: `${P}/start`,
        body: {},
        line: ok("kms:ServiceControl", []),
      },
      {
        id: "a-missing",
        who: admin,
        method: "POST",
        path: `${P}/keys/rotate`,
        body: { key_id: "no-such-key" },
        line: {
          action: "kms:RotateKey",
          outcome: "failed",
          keyIds: ["no-such-key"],
          errorCode: "NotFound",
        },
      },
      // Denied: screened before the body is read (no keys known), or by key.
      {
        id: "d-auditor",
        who: "auditor",
        method: "POST",
        path: `${P}/generate-data-key`,
        body: { key_id: "audit-key", encryption_context: ctx },
        line: {
          action: "kms:GenerateDataKey",
          outcome: "denied",
          keyIds: [],
          errorCode: "PermissionDenied",
        },
      },
      {
        id: "d-user",
        who: "key-user",
        method: "POST",
        path: `${P}/generate-data-key`,
        body: { key_id: "audit-key", encryption_context: ctx },
        line: {
          action: "kms:GenerateDataKey",
          outcome: "denied",
          keyIds: ["audit-key"],
          errorCode: "PermissionDenied",
        },
      },
      // Reads leave no line.
      { id: "r-status", who: admin, method: "GET", path: `${P}/status` },
      { id: "r-config", who: admin, method: "GET", path: `${P}/config` },
      { id: "r-list", who: admin, method: "GET", path: `${P}/keys` },
      { id: "r-describe", who: admin, method: "GET", path: `${P}/keys/audit-key` },
    ];
    for (const c of calls) {
      const answer = await signedFetch(gw.url, c.method, c.path, {
        body: c.body === undefined ? undefined : JSON.stringify(c.body),
        credentials: credentialsOf(c.who),
        headers: { "x-request-id": c.id },
      });
      answers.set(c.id, answer);
      const json = answer.json as Record<string, unknown> | undefined;
      if (typeof json?.plaintext_key === "string") plaintexts.push(json.plaintext_key);
      if (typeof json?.plaintext === "string") plaintexts.push(json.plaintext);
    }
  });

  it("the calls ran as the test means them to (allowed ones answered 2xx)", () => {
    for (const c of calls) {
      const status = answers.get(c.id)?.status ?? 0;
      if (c.line?.outcome === "allowed" || c.line === undefined) {
        expect(status, `${c.id}: ${answers.get(c.id)?.text}`).toBeLessThan(300);
      } else if (c.line.outcome === "denied") {
        expect(status, c.id).toBe(403);
      } else {
        expect(status, c.id).toBeGreaterThanOrEqual(400);
      }
    }
  });

  it("every audited call leaves exactly one well-formed line; reads leave none", () => {
    const lines = auditLines();
    for (const c of calls) {
      const mine = lines.filter((l) => l.requestId === c.id);
      if (c.line === undefined) {
        expect(mine, c.id).toHaveLength(0);
        continue;
      }
      expect(mine, c.id).toHaveLength(1);
      const line = mine[0] as Record<string, unknown>;
      expect(Object.keys(line).sort()).toEqual(
        [
          "action",
          "destinationEncryptionContext",
          "encryptionContext",
          "errorCode",
          "identity",
          "keyIds",
          "keyVersion",
          "method",
          "outcome",
          "requestId",
          "source",
          "time",
          "type",
        ].sort(),
      );
      expect(line).toMatchObject({
        type: "audit",
        identity: c.who,
        source: "127.0.0.1",
        action: c.line.action,
        outcome: c.line.outcome,
      });
      expect(Number.isNaN(Date.parse(line.time as string))).toBe(false);
      if (c.line.keyIds !== undefined) expect(line.keyIds, c.id).toEqual(c.line.keyIds);
      if (c.line.errorCode !== undefined) expect(line.errorCode, c.id).toBe(c.line.errorCode);
      if (c.line.outcome !== "allowed") expect(line.errorCode, c.id).toEqual(expect.any(String));
    }
    const gdk = lines.find((l) => l.requestId === "a-gdk") as Record<string, unknown>;
    expect(gdk.keyVersion).toBe(1);
    expect(gdk.encryptionContext).toEqual({
      bucket: expect.stringMatching(/^sha256:[0-9a-f]{16}$/),
    });
    const rotated = lines.find((l) => l.requestId === "a-rotate") as Record<string, unknown>;
    expect(rotated.keyVersion).toBe(2);
  });

  it("no line holds a secret key, plaintext, data key, Vault token, master key or context value", () => {
    const text = readFileSync(auditPath, "utf8");
    const secrets = [
      testCredentials.secretAccessKey,
      ...Object.keys(IDENTITIES).map((who) => credentialsOf(who).secretAccessKey),
      CONTEXT_VALUE,
      PLAINTEXT,
      Buffer.from(PLAINTEXT).toString("base64"),
      VAULT_TOKEN,
      MASTER_KEY,
    ];
    expect(plaintexts.length).toBeGreaterThanOrEqual(3);
    for (const p of plaintexts) {
      secrets.push(p, Buffer.from(p, "base64").toString("hex"));
    }
    for (const secret of secrets) expect(text, "a secret in the audit log").not.toContain(secret);
  });

  it("the audit file is 0600", async () => {
    const { statSync } = await import("node:fs");
    expect(statSync(auditPath).mode & 0o777).toBe(0o600);
  });
});

// /dev/full accepts the open and refuses every write (ENOSPC): an audit log
// that cannot be written, without filling a real disk.
describe.skipIf(!existsSync("/dev/full"))("when the audit log cannot be written", () => {
  let closed: GatewayProcess;
  let open: GatewayProcess;
  beforeAll(async () => {
    [closed, open] = await Promise.all([
      startGateway(authzSpawn(identities, ["--audit-log", "/dev/full"])),
      startGateway(authzSpawn(identities, ["--audit-log", "/dev/full", "--audit-fail-open"])),
    ]);
    for (const g of [closed, open]) {
      await rootCall(g, "POST", `${P}/keys`, { Tags: { name: "k" } }).catch(() => undefined);
    }
  });
  afterAll(async () => {
    await Promise.all([closed?.stop(), open?.stop()]);
  });

  it("fails audited calls closed with 500 and no key material, and still answers reads", async () => {
    const answer = await signedFetch(closed.url, "POST", `${P}/generate-data-key`, {
      body: JSON.stringify({ key_id: "k" }),
      credentials: credentialsOf("console-admin"),
    });
    expect(answer.status).toBe(500);
    expect(answer.text).not.toContain("plaintext_key");
    expect(answer.json).toMatchObject({ code: "InternalError" });
    const read = await signedFetch(closed.url, "GET", `${P}/keys`, {
      credentials: credentialsOf("console-admin"),
    });
    expect(read.status).toBe(200);
    expect(closed.logLines.some((l) => l.includes("audit line not written"))).toBe(true);
  });

  it("answers them with --audit-fail-open (and logs the failure)", async () => {
    const answer = await signedFetch(open.url, "POST", `${P}/generate-data-key`, {
      body: JSON.stringify({ key_id: "k" }),
      credentials: credentialsOf("console-admin"),
    });
    expect(answer.status, answer.text).toBe(200);
    expect(open.logLines.some((l) => l.includes("audit line not written"))).toBe(true);
  });
});
