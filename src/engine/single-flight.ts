/**
 * SingleFlight coalesces concurrent calls for one key: while a call for a key
 * is in flight, later calls for that key share its promise instead of starting
 * their own. Once it settles the key is forgotten, so the next call starts
 * afresh and the map holds only keys with a call in flight.
 */
export interface SingleFlight<T> {
  /** run returns the in-flight promise for `key`, or starts `fn` and shares it. */
  run(key: string, fn: () => Promise<T>): Promise<T>;
  /** inFlight tells how many keys have a call in flight. */
  inFlight(): number;
}

/** createSingleFlight returns an empty SingleFlight. */
export function createSingleFlight<T>(): SingleFlight<T> {
  const flights = new Map<string, Promise<T>>();
  return {
    run(key, fn) {
      const existing = flights.get(key);
      if (existing !== undefined) return existing;
      const flight = (async () => {
        try {
          return await fn();
        } finally {
          flights.delete(key);
        }
      })();
      flights.set(key, flight);
      return flight;
    },
    inFlight: () => flights.size,
  };
}
