/**
 * Percent-encoding helpers for the REST transcoder.
 *
 * Paths arrive percent-encoded. Route matching compares *canonical* segments
 * (every escape decoded, then everything outside RFC 3986's unreserved set
 * re-escaped with upper-case hex), so `clear%2Dcache` and `clear-cache` are the
 * same literal while `a%2Fb` never matches two segments. Variable values are
 * decoded separately, where a malformed escape is a client error (400), never
 * a server error.
 */

const unreserved = /^[A-Za-z0-9\-._~]$/;
const hexPair = /^[0-9A-Fa-f]{2}$/;
const utf8 = new TextEncoder();

/**
 * canonicalizePathSegment returns the canonical form of one raw path segment,
 * or `undefined` when the segment holds a malformed `%` escape (it then
 * matches no literal).
 */
export function canonicalizePathSegment(raw: string): string | undefined {
  if (!/[^A-Za-z0-9\-._~]/.test(raw)) {
    return raw; // the common case: nothing to do
  }
  let out = "";
  for (let i = 0; i < raw.length; i++) {
    const ch = raw.charAt(i);
    if (ch === "%") {
      const hex = raw.slice(i + 1, i + 3);
      if (!hexPair.test(hex)) {
        return undefined;
      }
      const decoded = String.fromCharCode(Number.parseInt(hex, 16));
      out += unreserved.test(decoded) ? decoded : `%${hex.toUpperCase()}`;
      i += 2;
    } else if (unreserved.test(ch)) {
      out += ch;
    } else {
      // Escape byte-wise (UTF-8) so that a raw and an escaped non-ASCII
      // character canonicalize alike; take a whole surrogate pair at once.
      const char = String.fromCodePoint(raw.codePointAt(i) ?? 0);
      for (const byte of utf8.encode(char)) {
        out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
      }
      i += char.length - 1;
    }
  }
  return out;
}

/**
 * decodePathSegment percent-decodes one raw path segment for a path variable.
 * With `keepSlash` (segments of a multi-segment `**` capture), `%2F` stays
 * encoded so that the segments can be re-joined with `/` unambiguously, as
 * google.api.http prescribes. Throws a `URIError` on a malformed escape or
 * invalid UTF-8.
 */
export function decodePathSegment(raw: string, keepSlash: boolean): string {
  if (!keepSlash) {
    return decodeURIComponent(raw);
  }
  return raw
    .split(/%2F/i)
    .map((part) => decodeURIComponent(part))
    .join("%2F");
}

/**
 * decodeQueryComponent decodes a query-string name or value the way HTML forms
 * (and Go's `url.ParseQuery`, which grpc-gateway and Vanguard use) encode it:
 * `+` is a space, `%XX` an escaped UTF-8 byte. Unlike `URLSearchParams` it
 * throws a `URIError` on a malformed escape instead of passing it through.
 */
export function decodeQueryComponent(raw: string): string {
  return decodeURIComponent(raw.replaceAll("+", " "));
}
