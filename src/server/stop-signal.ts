/**
 * StopSignal is the part of an AbortSignal that a body read listens to. An
 * AbortSignal is one; so is the signal of createStopSource, which costs a small
 * object where an AbortController costs an EventTarget, on every request.
 */
export interface StopSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: "abort", listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: "abort", listener: () => void): void;
}

/** StopSource is a StopSignal and the one way to fire it. */
export interface StopSource {
  readonly signal: StopSignal;
  /** stop fires the signal once with `reason`; later calls do nothing. */
  stop(reason: Error): void;
}

/**
 * createStopSource returns a signal that fires once, calling each listener added
 * before then once (every listener is a one-shot, as `{ once: true }` asks). The
 * edge makes one per request for its body deadline, which almost never fires.
 */
export function createStopSource(): StopSource {
  let listeners: Array<() => void> | undefined;
  const signal = {
    aborted: false,
    reason: undefined as unknown,
    addEventListener(_type: "abort", listener: () => void) {
      if (signal.aborted) return;
      listeners ??= [];
      listeners.push(listener);
    },
    removeEventListener(_type: "abort", listener: () => void) {
      const at = listeners?.indexOf(listener) ?? -1;
      if (at >= 0) listeners?.splice(at, 1);
    },
  };
  return {
    signal,
    stop(reason) {
      if (signal.aborted) return;
      signal.aborted = true;
      signal.reason = reason;
      const fire = listeners ?? [];
      listeners = undefined;
      for (const listener of fire) listener();
    },
  };
}
