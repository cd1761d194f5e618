/** errnoCode is the `code` of a Node system error (`ENOENT`, `EEXIST`, …), if it has one. */
export function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}
