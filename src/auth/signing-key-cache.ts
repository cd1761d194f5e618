import { createHmac } from "node:crypto";
import { createHmacSha256, type HmacSha256 } from "../hashing/hmac-sha256.js";

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
  /**
   * signer returns HMAC-SHA256 under the same signing key, its pads computed
   * once per cached key: the final signature of every request goes through it.
   */
  signer(secretKey: string, date: string, region: string, service: string): HmacSha256;
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
  const entries = new Map<string, Entry>();
  // The most recently used entry, already last in the Map: a gateway mostly serves one
  // credential and scope at a time, and a repeat of it needs no Map work at all.
  let last: Entry | undefined;
  const entryOf = (secretKey: string, date: string, region: string, service: string): Entry => {
    if (
      last !== undefined &&
      last.secretKey === secretKey &&
      last.date === date &&
      last.region === region &&
      last.service === service
    ) {
      return last;
    }
    // Length prefixes keep the composite key unambiguous whatever the parts contain.
    const id = `${date.length}:${date}${region.length}:${region}${service.length}:${service}${secretKey}`;
    let entry = entries.get(id);
    if (entry !== undefined) {
      entries.delete(id);
    } else {
      const key = deriveSigningKey(secretKey, date, region, service);
      entry = { secretKey, date, region, service, key, hmac: undefined };
      if (entries.size >= maxEntries) {
        const oldest = entries.keys().next();
        if (!oldest.done) entries.delete(oldest.value);
      }
    }
    entries.set(id, entry);
    last = entry;
    return entry;
  };
  return {
    get(secretKey, date, region, service) {
      return entryOf(secretKey, date, region, service).key;
    },
    signer(secretKey, date, region, service) {
      const entry = entryOf(secretKey, date, region, service);
      entry.hmac ??= createHmacSha256(entry.key);
      return entry.hmac;
    },
    get size() {
      return entries.size;
    },
  };
}

/** Entry is one cached signing key, what it was derived from, and, once asked for, HMAC-SHA256 under it. */
interface Entry {
  readonly secretKey: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
  readonly key: Buffer;
  hmac: HmacSha256 | undefined;
}
