/** MicroBench is one piece of the hot path to time: a name, an optional target, and the operation. */
export interface MicroBench {
  name: string;
  /** The per-operation ceiling, in µs, when it sets one. */
  targetUs?: number;
  /** The operation; it may be async. It throws when its answer is wrong. */
  fn: () => unknown;
  /** Releases what setup took (temporary directories, engines). */
  teardown?: () => Promise<void>;
}
