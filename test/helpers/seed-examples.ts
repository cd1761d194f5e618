import { readFileSync } from "node:fs";

/**
 * seedExamples are the JSON examples of the documented API
 * (test/fixtures/seed/kms-admin-http-api.md, a verbatim copy of the user's
 * specification), parsed in document order and named.
 */
const names = [
  "configureRequest",
  "configureResponse",
  "startResponse",
  "stopResponse",
  "statusResponse",
  "configResponse",
  "createKeyRequest",
  "createKeyResponse",
  "listKeysResponse",
  "describeKeyResponse",
  "deleteKeyRequest",
  "cancelDeletionRequest",
  "generateDataKeyRequest",
  "generateDataKeyResponse",
] as const;

/** SeedExampleName names one JSON example of the seed document. */
export type SeedExampleName = (typeof names)[number];

function load(): Record<SeedExampleName, string> {
  const doc = readFileSync(
    new URL("../fixtures/seed/kms-admin-http-api.md", import.meta.url),
    "utf8",
  );
  const blocks = [...doc.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1] ?? "");
  if (blocks.length !== names.length) {
    throw new Error(`the seed has ${blocks.length} JSON examples, expected ${names.length}`);
  }
  return Object.fromEntries(names.map((name, i) => [name, blocks[i]])) as Record<
    SeedExampleName,
    string
  >;
}

/** seedText is each example's text exactly as the seed writes it (to send verbatim). */
export const seedText = load();

/** seedJson returns an example parsed. */
export function seedJson(name: SeedExampleName): unknown {
  return JSON.parse(seedText[name]);
}
