/**
 * shapeMismatches compares a JSON value with an example of the documented API
 * and lists every difference of shape: a missing key, an extra key not in
 * `allowedExtra`, a different JSON type, or a value that is not null where the
 * example has null. Values themselves are not compared. Paths look like
 * `key_metadata.deletion_date`; array elements are compared with the example's
 * first element and written `keys[]`.
 */
export function shapeMismatches(
  actual: unknown,
  example: unknown,
  allowedExtra: readonly string[] = [],
  path = "",
): string[] {
  const here = path || "(root)";
  if (example === null) {
    return actual === null ? [] : [`${here}: expected null, got ${typeOf(actual)}`];
  }
  if (typeOf(actual) !== typeOf(example)) {
    return [`${here}: expected ${typeOf(example)}, got ${typeOf(actual)}`];
  }
  if (Array.isArray(example)) {
    const first = example[0];
    if (first === undefined) return [];
    return (actual as unknown[]).flatMap((item) =>
      shapeMismatches(item, first, allowedExtra, `${path}[]`),
    );
  }
  if (typeof example !== "object") {
    return [];
  }
  const a = actual as Record<string, unknown>;
  const e = example as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(e)) {
    const sub = path ? `${path}.${key}` : key;
    if (!(key in a)) {
      problems.push(`${sub}: missing`);
      continue;
    }
    problems.push(...shapeMismatches(a[key], e[key], allowedExtra, sub));
  }
  for (const key of Object.keys(a)) {
    const sub = path ? `${path}.${key}` : key;
    if (!(key in e) && !allowedExtra.includes(sub)) {
      problems.push(`${sub}: not in the documented example`);
    }
  }
  return problems;
}

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}
