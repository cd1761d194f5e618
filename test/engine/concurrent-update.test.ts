import { describe, expect, it } from "vitest";
import { ConcurrentUpdateError, type KeyBackend } from "../../src/engine/backend.js";
import { createKeyCache } from "../../src/engine/cache.js";
import { createKeyStore, UPDATE_ATTEMPTS } from "../../src/engine/key-store.js";
import { createMemoryBackend, createMemoryBackendStore } from "../helpers/memory-backend.js";
import { storedKey } from "./engine-fixture.js";

// A backend shared by replicas refuses a write that lost a check-and-set race
// (ConcurrentUpdateError); the store reads the key again and re-applies the change.

function racingBackend(losses: number) {
  const store = createMemoryBackendStore();
  const inner = createMemoryBackend(store);
  let left = losses;
  const puts = { count: 0 };
  const backend: KeyBackend = {
    ...inner,
    async put(key) {
      puts.count++;
      if (left > 0) {
        left--;
        // Another replica's write lands first: a tag this replica never saw.
        const theirs = await inner.get(key.keyId);
        if (theirs !== null) {
          await inner.put({ ...theirs, tags: { ...theirs.tags, [`other${left}`]: "x" } });
        }
        throw new ConcurrentUpdateError(key.keyId);
      }
      return inner.put(key);
    },
  };
  return { backend, inner, puts };
}

function storeOver(backend: KeyBackend) {
  const now = () => new Date(0);
  return createKeyStore({
    backend,
    kek: Buffer.alloc(32, 1),
    cache: createKeyCache({ enabled: true, maxKeys: 8, ttlSeconds: 60, now }),
    cacheEnabled: true,
    now,
    log: () => {},
  });
}

describe("KeyStore.update against a shared backend", () => {
  it("re-applies a change that lost the race, keeping the other writer's update", async () => {
    const { backend, inner } = racingBackend(2);
    await inner.create(storedKey("k"));
    const store = storeOver(backend);
    let applied = 0;
    const next = await store.update("k", (key) => {
      applied++;
      return { ...key, tags: { ...key.tags, mine: "y" } };
    });
    expect(applied).toBe(3);
    expect(next.tags).toMatchObject({ mine: "y", other1: "x", other0: "x" });
    expect((await inner.get("k"))?.tags).toMatchObject({ mine: "y", other1: "x", other0: "x" });
  });

  it("gives up after UPDATE_ATTEMPTS with the conflict, which says what happened", async () => {
    const { backend, inner, puts } = racingBackend(100);
    await inner.create(storedKey("k"));
    const error = await storeOver(backend)
      .update("k", (key) => ({ ...key, description: "never" }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConcurrentUpdateError);
    expect((error as Error).message).toBe(
      'key "k" was changed concurrently by another gateway; retry the operation',
    );
    // Each attempt wrote once and lost; then the store stopped, leaving the rest.
    expect(puts.count).toBe(UPDATE_ATTEMPTS);
    expect(UPDATE_ATTEMPTS).toBeGreaterThan(1);
  });
});
