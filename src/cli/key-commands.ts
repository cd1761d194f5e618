import { create } from "@bufbuild/protobuf";
import type { Command } from "commander";
import {
  CancelKeyDeletionResponseSchema,
  CreateKeyResponseSchema,
  DescribeKeyResponseSchema,
  DisableKeyResponseSchema,
  EnableKeyResponseSchema,
  ListKeysResponseSchema,
  RotateKeyResponseSchema,
  ScheduleKeyDeletionResponseSchema,
  TagKeyResponseSchema,
  UntagKeyResponseSchema,
  UpdateKeyDescriptionResponseSchema,
} from "../../gen/kms/admin/v1/service_pb.js";
import type { KeyListEntry } from "../../gen/kms/admin/v1/types_pb.js";
import type { ClientContext } from "./client-context.js";
import { UsageError } from "./exit-codes.js";
import { collectPair, emptyPairs } from "./key-value-pairs.js";

/** MAX_LIST_PAGES bounds `key list --all`, so a server that never stops paging cannot loop us forever. */
const MAX_LIST_PAGES = 100_000;

/**
 * addKeyCommands adds `key create|list|describe|delete|cancel-deletion|enable|disable|
 * rotate|tag|untag|set-description`.
 */
export function addKeyCommands(program: Command, context: () => ClientContext): void {
  const key = program.command("key").description("create, list, describe and delete master keys");
  key
    .command("create")
    .description("create a master key (its id is --name, or a new UUID)")
    .option("--name <name>", "the key id (the `name` tag)")
    .option("--description <text>", "a description")
    .option("--tag <key=value>", "a tag (repeatable)", collectPair("--tag"), emptyPairs())
    .action(async (opts: { name?: string; description?: string; tag: Record<string, string> }) => {
      const c = context();
      const tags = { ...opts.tag };
      if (opts.name !== undefined) tags.name = opts.name;
      c.out.message(
        CreateKeyResponseSchema,
        await c.client().createKey({ description: opts.description, tags }),
      );
    });
  key
    .command("list")
    .description("list master keys, one page, or every page with --all")
    .option("--limit <n>", "keys per page (1-1000)", positiveInteger("--limit"))
    .option("--marker <id>", "start after this key id")
    .option("--all", "follow next_marker to the last page")
    .action(async (opts: { limit?: number; marker?: string; all?: boolean }) => {
      const c = context();
      const header = ["KEY ID", "STATE", "DESCRIPTION"];
      const row = (k: KeyListEntry) => [k.keyId, k.keyState, k.description ?? ""];
      if (!opts.all) {
        const res = await c.client().listKeys({ limit: opts.limit, marker: opts.marker });
        if (c.out.json) {
          c.out.message(ListKeysResponseSchema, res);
          return;
        }
        c.out.table(header, res.keys.map(row));
        if (res.truncated) c.out.note(`more keys follow: --marker ${res.nextMarker} (or --all)`);
        return;
      }
      const keys: KeyListEntry[] = [];
      let marker = opts.marker;
      // Progress on a terminal for long listings; nothing when piped.
      const progress = process.stderr.isTTY === true;
      for (let page = 1; ; page++) {
        const res = await c.client().listKeys({ limit: opts.limit ?? 1000, marker });
        keys.push(...res.keys);
        if (!res.truncated || res.nextMarker === undefined) break;
        if (page >= MAX_LIST_PAGES) throw new Error(`stopped after ${MAX_LIST_PAGES} pages`);
        marker = res.nextMarker;
        if (progress) process.stderr.write(`\r${keys.length} keys…`);
      }
      if (progress) process.stderr.write("\r\x1b[K");
      if (c.out.json)
        c.out.message(ListKeysResponseSchema, create(ListKeysResponseSchema, { keys }));
      else c.out.table(header, keys.map(row));
    });
  key
    .command("describe")
    .description("show a key's metadata")
    .argument("<key-id>")
    .action(async (keyId: string) => {
      const c = context();
      c.out.message(DescribeKeyResponseSchema, await c.client().describeKey({ keyId }));
    });
  key
    .command("delete")
    .description("schedule a key's deletion after a waiting period (7-30 days)")
    .argument("<key-id>")
    .option("--days <n>", "the waiting period in days [30]", positiveInteger("--days"))
    .action(async (keyId: string, opts: { days?: number }) => {
      const c = context();
      c.out.message(
        ScheduleKeyDeletionResponseSchema,
        await c.client().scheduleKeyDeletion({ keyId, pendingWindowInDays: opts.days }),
      );
    });
  key
    .command("cancel-deletion")
    .description("cancel a scheduled deletion")
    .argument("<key-id>")
    .action(async (keyId: string) => {
      const c = context();
      c.out.message(CancelKeyDeletionResponseSchema, await c.client().cancelKeyDeletion({ keyId }));
    });
  addKeyStateCommands(key, context);
}

/** addKeyStateCommands adds the commands that change a key: enable, disable, rotate, tags, description. */
function addKeyStateCommands(key: Command, context: () => ClientContext): void {
  key
    .command("enable")
    .description("enable a disabled key")
    .argument("<key-id>")
    .action(async (keyId: string) => {
      const c = context();
      c.out.message(EnableKeyResponseSchema, await c.client().enableKey({ keyId }));
    });
  key
    .command("disable")
    .description("disable a key: it refuses data keys, encrypt and decrypt until enabled")
    .argument("<key-id>")
    .action(async (keyId: string) => {
      const c = context();
      c.out.message(DisableKeyResponseSchema, await c.client().disableKey({ keyId }));
    });
  key
    .command("rotate")
    .description("add a key version: new wraps use it, older ciphertexts still decrypt")
    .argument("<key-id>")
    .action(async (keyId: string) => {
      const c = context();
      c.out.message(RotateKeyResponseSchema, await c.client().rotateKey({ keyId }));
    });
  key
    .command("tag")
    .description("add or change tags (the name tag cannot change)")
    .argument("<key-id>")
    .requiredOption("--tag <key=value>", "a tag (repeatable)", collectPair("--tag"), emptyPairs())
    .action(async (keyId: string, opts: { tag: Record<string, string> }) => {
      const c = context();
      c.out.message(
        TagKeyResponseSchema,
        await c.client().tagKey({ keyId, tags: { ...opts.tag } }),
      );
    });
  key
    .command("untag")
    .description("remove tags by key (the name tag cannot be removed)")
    .argument("<key-id>")
    .argument("<tag-key...>")
    .action(async (keyId: string, tagKeys: string[]) => {
      const c = context();
      c.out.message(UntagKeyResponseSchema, await c.client().untagKey({ keyId, tagKeys }));
    });
  key
    .command("set-description")
    .description("replace a key's description")
    .argument("<key-id>")
    .argument("<description>")
    .action(async (keyId: string, description: string) => {
      const c = context();
      c.out.message(
        UpdateKeyDescriptionResponseSchema,
        await c.client().updateKeyDescription({ keyId, description }),
      );
    });
}

/** positiveInteger parses a whole-number flag value. */
export function positiveInteger(flag: string): (value: string) => number {
  return (value) => {
    if (!/^\d{1,9}$/.test(value)) throw new UsageError(`${flag}: a whole number, not "${value}"`);
    return Number(value);
  };
}
