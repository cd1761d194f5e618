import { promises as fsp } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createFileStateStore } from "../../src/backends/local/file-state-store.js";
import { localBackendFactory } from "../../src/backends/local/local-backend.js";
import { createEngine } from "../../src/engine/engine.js";
import { auditDestructions } from "../../src/server/audit-destructions.js";
import { createFileAuditLog } from "../../src/server/audit-log.js";
import { createLogger } from "../../src/server/logger.js";
import { DAY_MS, MASTER_KEY } from "../engine/engine-fixture.js";

// Issue 9 item 7: the deletion sweep's destructions reach the audit trail. A
// real engine on real files and a real audit file, on an injected clock.

describe("the deletion sweep in the audit trail", () => {
  const roots: string[] = [];
  afterEach(async () => {
    await Promise.all(roots.splice(0).map((r) => fsp.rm(r, { recursive: true, force: true })));
  });

  it("writes one line per key the sweep destroys, with no identity", async () => {
    const root = await fsp.mkdtemp(join(tmpdir(), "kms-sweep-audit-"));
    roots.push(root);
    const auditPath = join(root, "audit.log");
    const audit = await createFileAuditLog({ path: auditPath, maxBytes: 1 << 20, keep: 1 });
    const logLines: string[] = [];
    let now = new Date("2026-01-01T00:00:00.000Z");
    const engine = await createEngine({
      stateStore: createFileStateStore(join(root, "kms-state.json")),
      backends: { local: localBackendFactory },
      defaultKeyDir: join(root, "keys"),
      now: () => new Date(now.getTime()),
      sweepIntervalMs: 3_600_000,
      log: auditDestructions(
        createLogger((line) => logLines.push(line)),
        audit,
      ),
    });
    try {
      await engine.configure({ backendType: "local", masterKey: MASTER_KEY });
      await engine.start();
      for (const name of ["doomed-1", "doomed-2", "kept"]) {
        await engine.createKey({ tags: { name } });
      }
      await engine.scheduleKeyDeletion("doomed-1", 7);
      await engine.scheduleKeyDeletion("doomed-2", 8);
      now = new Date(now.getTime() + 7 * DAY_MS);
      expect(await engine.runDeletionSweep()).toBe(1);
      now = new Date(now.getTime() + DAY_MS);
      expect(await engine.runDeletionSweep()).toBe(1);
    } finally {
      await engine.close();
      await audit.close();
    }
    const lines = (await fsp.readFile(auditPath, "utf8"))
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.keyIds)).toEqual([["doomed-1"], ["doomed-2"]]);
    for (const line of lines) {
      expect(line).toMatchObject({
        type: "audit",
        identity: null,
        source: null,
        action: "kms:SweepDeletion",
        outcome: "allowed",
        errorCode: null,
      });
      expect(line.requestId).toEqual(expect.any(String));
    }
    // The engine's own log line is still written.
    expect(
      logLines.filter((l) => l.includes("key destroyed after its deletion date")),
    ).toHaveLength(2);
  });
});
