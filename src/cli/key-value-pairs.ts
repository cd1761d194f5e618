import { UsageError } from "./exit-codes.js";

/**
 * collectPair is a commander option collector for repeatable `key=value` flags
 * (`--tag env=prod --tag team=a`): it adds one pair to the map, refusing a pair
 * without `=`, an empty key, or a key given twice.
 */
export function collectPair(
  flag: string,
): (value: string, previous: Record<string, string>) => Record<string, string> {
  return (value, previous) => {
    const eq = value.indexOf("=");
    if (eq <= 0) throw new UsageError(`${flag} takes key=value, got "${value}"`);
    const key = value.slice(0, eq);
    if (Object.hasOwn(previous, key)) throw new UsageError(`${flag} names "${key}" twice`);
    // A null-prototype map: `--context __proto__=x` must stay a pair (the server refuses it).
    const next: Record<string, string> = Object.assign(Object.create(null), previous);
    next[key] = value.slice(eq + 1);
    return next;
  };
}

/** emptyPairs is the initial value of a collectPair option. */
export function emptyPairs(): Record<string, string> {
  return Object.create(null) as Record<string, string>;
}
