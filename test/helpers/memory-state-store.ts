import type { PersistedState, StateStore } from "../../src/engine/backend.js";

/** MemoryStateStore is a StateStore in memory that records every save. */
export interface MemoryStateStore extends StateStore {
  /** The current stored state (a copy is kept, so callers cannot alter it). */
  readonly state: PersistedState | null;
  /** Every state saved, in order. */
  readonly saves: PersistedState[];
  /** When true, save rejects with a plain Error, as a full disk would. */
  failSaves: boolean;
}

/** createMemoryStateStore returns a store holding `initial` (default: nothing saved). */
export function createMemoryStateStore(initial: PersistedState | null = null): MemoryStateStore {
  let state = initial === null ? null : structuredClone(initial);
  const saves: PersistedState[] = [];
  const store: MemoryStateStore = {
    get state() {
      return state;
    },
    saves,
    failSaves: false,
    async load() {
      return state === null ? null : structuredClone(state);
    },
    async save(next) {
      if (store.failSaves) throw new Error("injected save failure");
      state = structuredClone(next);
      saves.push(structuredClone(next));
    },
  };
  return store;
}
