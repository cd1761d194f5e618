import { randomFillSync } from "node:crypto";

/**
 * POOL_BYTES is how much one call to the CSPRNG fills at once. A synchronous
 * randomBytes() builds a job object and a fresh ArrayBuffer per call (several
 * µs each), which every data key and every wrap would pay.
 */
const POOL_BYTES = 16 * 1024;
const pool = Buffer.alloc(POOL_BYTES);
let offset = POOL_BYTES;

/**
 * fillRandom writes `length` bytes from the CSPRNG at `at` in `target`, drawn
 * from a pool refilled in 16 KiB blocks. Each pooled byte is handed out once and
 * wiped from the pool as it is taken, so no two callers share one, and bytes
 * not yet handed out are the only randomness the pool holds. Requests larger
 * than a quarter of the pool go to the CSPRNG directly.
 */
export function fillRandom(target: Uint8Array, at: number, length: number): void {
  if (length > POOL_BYTES / 4) {
    randomFillSync(target, at, length);
    return;
  }
  if (offset + length > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const end = offset + length;
  target.set(pool.subarray(offset, end), at);
  pool.fill(0, offset, end);
  offset = end;
}

/**
 * randomSecret returns `length` fresh random bytes (from fillRandom's pool) in a
 * buffer of their own, not a slice of Node's shared allocation pool, so that
 * wiping it is the whole story; the caller owns (and zeroises) it.
 */
export function randomSecret(length: number): Buffer {
  const bytes = Buffer.allocUnsafeSlow(length);
  fillRandom(bytes, 0, length);
  return bytes;
}
