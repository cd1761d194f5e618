/**
 * wildcardMatch tells whether `value` matches `pattern`, where `*` matches any run
 * of characters (also none) and `?` exactly one, as IAM policies use them. It
 * uses no regular expression: the greedy two-pointer walk with one backtrack
 * point runs in O(|pattern| × |value|) at worst, whatever the pattern.
 */
export function wildcardMatch(pattern: string, value: string): boolean {
  let p = 0;
  let v = 0;
  let starP = -1;
  let starV = 0;
  while (v < value.length) {
    const c = pattern[p];
    if (c === "*") {
      starP = p++;
      starV = v;
    } else if (c !== undefined && (c === "?" || c === value[v])) {
      p++;
      v++;
    } else if (starP !== -1) {
      p = starP + 1;
      v = ++starV;
    } else {
      return false;
    }
  }
  while (pattern[p] === "*") p++;
  return p === pattern.length;
}
