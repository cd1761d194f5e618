/** RFC 3986 unreserved characters are the only bytes SigV4 leaves unencoded. */
const ENCODED: readonly string[] = Array.from({ length: 256 }, (_, b) => {
  const c = String.fromCharCode(b);
  return /[A-Za-z0-9\-._~]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
});

/**
 * encodeRfc3986 percent-encodes every byte outside the RFC 3986 unreserved set, with uppercase
 * hex, as SigV4 canonicalization requires. A string is taken as UTF-8.
 */
export function encodeRfc3986(input: Uint8Array | string): string {
  const bytes = typeof input === "string" ? Buffer.from(input, "utf8") : input;
  let out = "";
  for (const b of bytes) out += ENCODED[b];
  return out;
}

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  const lower = code | 0x20;
  if (lower >= 97 && lower <= 102) return lower - 87;
  return -1;
}

/**
 * percentDecode turns a percent-encoded string into bytes, or undefined when a `%` is not
 * followed by two hex digits. With plusAsSpace, `+` decodes to a space (form encoding).
 * Bytes rather than a string, so invalid UTF-8 such as `%FF` survives re-encoding unchanged.
 */
export function percentDecode(input: string, plusAsSpace = false): Uint8Array | undefined {
  if (!input.includes("%") && !(plusAsSpace && input.includes("+"))) {
    return Buffer.from(input, "utf8");
  }
  const text = Buffer.from(input, "utf8");
  const out = Buffer.allocUnsafe(text.length);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const b = text[i] as number;
    if (b === 0x25) {
      const hi = hexValue(text[i + 1] ?? -1);
      const lo = hexValue(text[i + 2] ?? -1);
      if (hi < 0 || lo < 0) return undefined;
      out[n++] = hi * 16 + lo;
      i += 2;
    } else {
      out[n++] = plusAsSpace && b === 0x2b ? 0x20 : b;
    }
  }
  return out.subarray(0, n);
}
