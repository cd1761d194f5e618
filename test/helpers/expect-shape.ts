/**
 * contractAdditiveFields are the response fields contract §3 lets the gateway
 * add beyond the documented examples because RustFS's own clients read them
 * (issue 10): `success` and `message` on key operations, the top-level
 * `deletion_date` of schedule-deletion, list entries' `status`, `tags`,
 * `algorithm`, `usage` and `created_at`, and status's `backend_status` and
 * `default_key_id`. shapeMismatches allows them everywhere; every documented
 * field is still checked for presence, type and nulls.
 */
export const contractAdditiveFields: readonly string[] = [
  "success",
  "message",
  "deletion_date",
  "keys[].status",
  "keys[].tags",
  "keys[].algorithm",
  "keys[].usage",
  "keys[].created_at",
  "backend_status",
  "default_key_id",
];

/**
 * shapeMismatches compares a JSON value with an example of the documented API
 * and lists every difference of shape: a missing key, an extra key not in
 * `allowedExtra` or contractAdditiveFields, a different JSON type, or a value that is not null where the
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
    if (!(key in e) && !allowedExtra.includes(sub) && !contractAdditiveFields.includes(sub)) {
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
