/** Mutex runs async functions one at a time, in call order. */
export interface Mutex {
  run<T>(fn: () => Promise<T>): Promise<T>;
}

/** createMutex returns a promise-chain mutex: each call starts after the previous one settles. */
export function createMutex(): Mutex {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    run<T>(fn: () => Promise<T>): Promise<T> {
      const result = tail.then(fn);
      // A failed call must not block the ones queued behind it.
      tail = result.catch(() => undefined);
      return result;
    },
  };
}

/** KeyedMutex runs async functions one at a time per key; different keys run concurrently. */
export interface KeyedMutex {
  run<T>(key: string, fn: () => Promise<T>): Promise<T>;
}

/** createKeyedMutex returns a KeyedMutex that forgets a key once its queue is empty. */
export function createKeyedMutex(): KeyedMutex {
  const tails = new Map<string, Promise<unknown>>();
  return {
    run<T>(key: string, fn: () => Promise<T>): Promise<T> {
      const result = (tails.get(key) ?? Promise.resolve()).then(fn);
      const tail = result.catch(() => undefined);
      tails.set(key, tail);
      // Drop the entry when nothing queued after us, so the map stays bounded by
      // the number of keys with work in flight.
      void tail.then(() => {
        if (tails.get(key) === tail) tails.delete(key);
      });
      return result;
    },
  };
}
