import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, expect, it } from "vitest";

// Everything the README and the users' docs point at must be in a clone of
// this repository: a link or a path to a file beside the repository (or to
// one that was never written) leaves a newcomer with nothing to open.

const root = new URL("../..", import.meta.url).pathname;
const documents = [
  "README.md",
  "docs/api.md",
  "docs/getting-started.md",
  "docs/configuration.md",
  "docs/operations.md",
  "docs/security.md",
  "docs/troubleshooting.md",
  "test/fixtures/tls/README.md",
];

/** references lists the relative link targets and the backticked repository paths of a document. */
function references(document: string): string[] {
  const text = readFileSync(join(root, document), "utf8");
  const links = [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1] ?? "")
    .filter((target) => !/^[a-z]+:/.test(target) && !target.startsWith("#"))
    .map((target) => relative(root, join(root, dirname(document), target.split("#")[0] ?? "")));
  // Backticked tokens that name a file of the repository (`test/helpers/x.ts`, `shared/docs/y.md`).
  const paths = [...text.matchAll(/`([A-Za-z][\w.-]*\/[\w./-]*\.(?:md|ts|proto|json|yaml))`/g)].map(
    (m) => m[1] ?? "",
  );
  return [...links, ...paths];
}

describe("the README and docs/", () => {
  it.each(documents)("%s points only at files in this repository", (document) => {
    const refs = references(document);
    expect(refs.length).toBeGreaterThan(0);
    const missing = refs.filter((ref) => ref.startsWith("..") || !existsSync(join(root, ref)));
    expect(missing).toEqual([]);
  });

  it("links the API reference and the licence", () => {
    const refs = references("README.md");
    expect(refs).toContain("docs/api.md");
    expect(refs).toContain("LICENSE");
    expect(readFileSync(join(root, "LICENSE"), "utf8")).toMatch(
      /Apache License\s+Version 2\.0, January 2004/,
    );
  });
});
