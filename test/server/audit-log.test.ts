import { existsSync } from "node:fs";
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditEntry } from "../../src/server/audit-entry.js";
import { AuditLogError, createFileAuditLog } from "../../src/server/audit-log.js";

const entry = (n: number, context: Record<string, string> | null = null): AuditEntry => ({
  requestId: `req-${n}`,
  identity: "objectstore",
  source: "127.0.0.1",
  action: "kms:GenerateDataKey",
  method: "GenerateDataKey",
  keyIds: ["app-1"],
  keyVersion: 2,
  outcome: "allowed",
  errorCode: null,
  encryptionContext: context,
});

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "kms-audit-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const lines = async (path: string) =>
  (await readFile(path, "utf8"))
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l));

describe("the audit log", () => {
  it("appends one JSON line per entry, in a 0600 file, with context values hashed", async () => {
    const path = join(dir, "audit.log");
    const log = await createFileAuditLog({
      path,
      maxBytes: 1 << 20,
      keep: 2,
      now: () => new Date(0),
    });
    // An own `__proto__` key (as JSON.parse makes one) is written as a key like any other.
    await log.write(
      entry(1, JSON.parse('{"bucket":"finance-secret-bucket","__proto__":"proto-value"}')),
    );
    await log.write(entry(2));
    await log.close();
    const text = await readFile(path, "utf8");
    expect(text).not.toContain("finance-secret-bucket");
    expect(text).not.toContain("proto-value");
    const [first, second] = await lines(path);
    expect(first).toEqual({
      time: "1970-01-01T00:00:00.000Z",
      type: "audit",
      requestId: "req-1",
      identity: "objectstore",
      source: "127.0.0.1",
      action: "kms:GenerateDataKey",
      method: "GenerateDataKey",
      keyIds: ["app-1"],
      keyVersion: 2,
      outcome: "allowed",
      errorCode: null,
      encryptionContext: expect.any(Object),
      destinationEncryptionContext: null,
    });
    expect(Object.entries(first.encryptionContext)).toEqual([
      ["__proto__", expect.stringMatching(/^sha256:[0-9a-f]{16}$/)],
      ["bucket", expect.stringMatching(/^sha256:[0-9a-f]{16}$/)],
    ]);
    expect(second.encryptionContext).toBeNull();
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it("writes 300 concurrent entries, each exactly once and whole", async () => {
    const path = join(dir, "concurrent.log");
    const log = await createFileAuditLog({ path, maxBytes: 1 << 20, keep: 1 });
    await Promise.all(Array.from({ length: 300 }, (_, i) => log.write(entry(i))));
    await log.close();
    const ids = (await lines(path)).map((l) => l.requestId).sort();
    expect(ids).toEqual(Array.from({ length: 300 }, (_, i) => `req-${i}`).sort());
  });

  it("rotates by size and keeps the configured number of old files", async () => {
    const path = join(dir, "rotating.log");
    const log = await createFileAuditLog({ path, maxBytes: 1_000, keep: 2 });
    for (let i = 0; i < 40; i++) await log.write(entry(i));
    await log.close();
    expect(existsSync(`${path}.1`)).toBe(true);
    expect(existsSync(`${path}.2`)).toBe(true);
    expect(existsSync(`${path}.3`)).toBe(false);
    const newest = await lines(path);
    expect(newest.at(-1)?.requestId).toBe("req-39");
    for (const file of [path, `${path}.1`, `${path}.2`]) {
      expect((await stat(file)).size).toBeLessThan(1_000 + 400);
      for (const line of await lines(file)) expect(line.type).toBe("audit");
    }
  });

  it("tightens an existing file that others could read", async () => {
    const path = join(dir, "loose.log");
    await writeFile(path, "");
    await chmod(path, 0o644);
    const log = await createFileAuditLog({ path, maxBytes: 1 << 20, keep: 1 });
    await log.close();
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it("rejects a write that cannot reach the disk (a full device), so the call can fail closed", async () => {
    const log = await createFileAuditLog({ path: "/dev/full", maxBytes: 1 << 30, keep: 0 });
    const error = await log.write(entry(1)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AuditLogError);
    expect((error as Error).message).toMatch(/cannot be written \(ENOSPC\)/);
    await log.close();
  });

  it("refuses at once when too many lines are already waiting", async () => {
    const path = join(dir, "backlog.log");
    const log = await createFileAuditLog({ path, maxBytes: 1 << 20, keep: 1, maxPending: 5 });
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => log.write(entry(i))),
    );
    await log.close();
    const refused = results.filter((r) => r.status === "rejected");
    expect(refused.length).toBeGreaterThan(0);
    expect((refused[0] as PromiseRejectedResult).reason.message).toMatch(/too many lines waiting/);
    expect((await lines(path)).length).toBe(20 - refused.length);
  });
});
