/**
 * quote writes a field name (or path) into an error message as a JSON string, cut at
 * 100 characters: the name comes from the request, so an error never echoes an
 * unbounded client string back.
 */
export function quote(name: string): string {
  return JSON.stringify(name.length > 100 ? `${name.slice(0, 100)}…` : name);
}
