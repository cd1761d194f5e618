import { createHmac } from "node:crypto";

/** deriveSigningKey computes the SigV4 signing key for a secret and credential scope. */
export function deriveSigningKey(
  secretKey: string,
  date: string,
  region: string,
  service: string,
): Buffer {
  const kDate = createHmac("sha256", `AWS4${secretKey}`).update(date).digest();
  const kRegion = createHmac("sha256", kDate).update(region).digest();
  const kService = createHmac("sha256", kRegion).update(service).digest();
  return createHmac("sha256", kService).update("aws4_request").digest();
}

/** SigningKeyCache hands out derived signing keys, deriving each (secret, scope) once. */
export interface SigningKeyCache {
  /** get returns the signing key; callers must not modify the returned buffer. */
  get(secretKey: string, date: string, region: string, service: string): Buffer;
  /** size is the number of keys held, never more than the cache's bound. */
  readonly size: number;
}

/**
 * createSigningKeyCache returns a least-recently-used cache of at most maxEntries signing keys.
 * Four chained HMACs per request are the bulk of a verify; a key lives for a day per scope.
 */
export function createSigningKeyCache(maxEntries = 1024): SigningKeyCache {
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new RangeError("signing key cache: maxEntries must be a positive integer");
  }
  // A Map iterates in insertion order, so re-inserting on a hit makes the first entry the LRU.
  const keys = new Map<string, Buffer>();
  // The most recently used entry, already last in the Map: a gateway mostly serves one
  // credential and scope at a time, and a repeat of it needs no Map work at all.
  let last:
    | { secretKey: string; date: string; region: string; service: string; key: Buffer }
    | undefined;
  return {
    get(secretKey, date, region, service) {
      if (
        last !== undefined &&
        last.secretKey === secretKey &&
        last.date === date &&
        last.region === region &&
        last.service === service
      ) {
        return last.key;
      }
      // Length prefixes keep the composite key unambiguous whatever the parts contain.
      const id = `${date.length}:${date}${region.length}:${region}${service.length}:${service}${secretKey}`;
      let key = keys.get(id);
      if (key !== undefined) {
        keys.delete(id);
      } else {
        key = deriveSigningKey(secretKey, date, region, service);
        if (keys.size >= maxEntries) {
          const oldest = keys.keys().next();
          if (!oldest.done) keys.delete(oldest.value);
        }
      }
      keys.set(id, key);
      last = { secretKey, date, region, service, key };
      return key;
    },
    get size() {
      return keys.size;
    },
  };
}
