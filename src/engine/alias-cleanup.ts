import type { KeyBackend } from "./backend.js";

// Aliases read per listing call while looking for a key's aliases.
const CLEANUP_PAGE_SIZE = 100;

/**
 * deleteAliasesOf deletes every alias that names `keyId` and resolves to how
 * many it deleted. The backend indexes aliases by name only, so this pages
 * through all of them (CLEANUP_PAGE_SIZE reads at a time): a cost paid once
 * per destroyed key, which is rare, instead of an index kept on every alias
 * write. The engine calls it before it destroys the key, so a crash in between
 * leaves a key the next sweep destroys again, aliases first.
 */
export async function deleteAliasesOf(
  backend: Pick<KeyBackend, "listAliases" | "deleteAlias">,
  keyId: string,
): Promise<number> {
  let after: string | null = null;
  let deleted = 0;
  for (;;) {
    const page = await backend.listAliases(after, CLEANUP_PAGE_SIZE);
    for (const alias of page.aliases) {
      if (alias.targetKeyId !== keyId) continue;
      await backend.deleteAlias(alias.aliasName);
      deleted++;
    }
    const last = page.aliases.at(-1);
    if (!page.more || last === undefined) return deleted;
    after = last.aliasName;
  }
}
