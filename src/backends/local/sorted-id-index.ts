/**
 * SortedIdIndex is an in-memory set of key ids kept in ascending order, so a
 * page of ids costs O(log n + limit) instead of a directory scan.
 *
 * Order: JavaScript compares strings by UTF-16 code units. Key ids are ASCII
 * (`[A-Za-z0-9._-]`), where that order is the byte order the contract asks for;
 * and an ASCII id compared with any `after` string also orders the same way in
 * UTF-16 and UTF-8, because every non-ASCII code unit and byte is above 0x7F.
 */
export interface SortedIdIndex {
  readonly size: number;
  has(id: string): boolean;
  /** insert adds `id` if absent (O(n) to shift the array, no comparison scan). */
  insert(id: string): void;
  /** remove deletes `id` if present. */
  remove(id: string): void;
  /** page returns up to `limit` ids greater than `after` (null = from the start) and whether more follow. */
  page(after: string | null, limit: number): { ids: string[]; more: boolean };
  /** all returns a copy of every id, in order. */
  all(): string[];
}

/** createSortedIdIndex builds a SortedIdIndex from ids in any order (duplicates are dropped). */
export function createSortedIdIndex(initial: Iterable<string> = []): SortedIdIndex {
  // Default sort compares UTF-16 code units, the order described above.
  const ids = [...new Set(initial)].sort();

  /** firstAbove returns the index of the first id strictly greater than `value`. */
  function firstAbove(value: string): number {
    let lo = 0;
    let hi = ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((ids[mid] as string) <= value) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** position returns where `id` is or would be inserted. */
  function position(id: string): number {
    let lo = 0;
    let hi = ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((ids[mid] as string) < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  return {
    get size() {
      return ids.length;
    },
    has(id) {
      return ids[position(id)] === id;
    },
    insert(id) {
      const at = position(id);
      if (ids[at] !== id) ids.splice(at, 0, id);
    },
    remove(id) {
      const at = position(id);
      if (ids[at] === id) ids.splice(at, 1);
    },
    page(after, limit) {
      const start = after === null ? 0 : firstAbove(after);
      const end = Math.min(ids.length, start + limit);
      return { ids: ids.slice(start, end), more: end < ids.length };
    },
    all() {
      return ids.slice();
    },
  };
}
