/**
 * maxJsonDepth is how deeply a request's JSON may nest arrays and objects. Our
 * deepest request (configure's `auth_method.approle`) nests 3 levels; V8's
 * `JSON.parse` spends about half a second of event-loop time on a 1 MiB body
 * of `[[[…]]]`, so such bodies are refused before they are parsed.
 */
export const maxJsonDepth = 32;

/**
 * exceedsJsonDepth tells whether JSON text nests arrays or objects deeper than
 * `limit`. It scans once, skips string contents, stops at the first level over
 * the limit and does not validate: malformed text is left to `JSON.parse`.
 */
export function exceedsJsonDepth(text: string, limit: number = maxJsonDepth): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) {
        i++; // a backslash escapes the next character, including a quote
      } else if (c === 0x22) {
        inString = false;
      }
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}
