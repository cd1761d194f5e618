import { describe, expect, it } from "vitest";
import type { StoredKey } from "../../src/engine/backend.js";
import { createDeadlineIndex } from "../../src/engine/deadline-index.js";

function key(keyId: string, deletionDate: Date | null): StoredKey {
  const at = new Date(0);
  return {
    keyId,
    description: null,
    keyState: deletionDate === null ? "Enabled" : "PendingDeletion",
    stateBeforeDeletion: deletionDate === null ? null : "Enabled",
    creationDate: at,
    deletionDate,
    tags: {},
    versions: [{ version: 1, sealedMaterial: new Uint8Array(61), createdAt: at }],
  };
}

describe("createDeadlineIndex", () => {
  it("knows the pending keys it was shown, drops cancelled and destroyed ones, and says which are due", () => {
    const index = createDeadlineIndex(1000);
    index.note(key("a", new Date(100)));
    index.note(key("b", new Date(200)));
    index.note(key("c", null));
    expect(index.size()).toBe(2);
    expect(index.due(new Date(99))).toEqual([]);
    expect(index.due(new Date(100))).toEqual(["a"]);
    expect(index.due(new Date(500)).sort()).toEqual(["a", "b"]);
    index.note(key("a", null)); // cancelled
    index.forget("b"); // destroyed
    expect(index.due(new Date(500))).toEqual([]);
    expect(index.size()).toBe(0);
  });

  it("asks for a full scan first, then again once the interval has passed since the last one began", () => {
    const index = createDeadlineIndex(1000);
    expect(index.fullScanDue(new Date(0))).toBe(true);
    index.fullScanDone(new Date(50));
    expect(index.fullScanDue(new Date(1049))).toBe(false);
    expect(index.fullScanDue(new Date(1050))).toBe(true);
  });
});
