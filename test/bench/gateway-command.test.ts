import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { startNodeFlags } from "../../bench/gateway-command.js";

describe("startNodeFlags", () => {
  it("takes the node options between node and the entry point", () => {
    expect(startNodeFlags("exec node --max-semi-space-size=4 dist/src/cli.js")).toEqual([
      "--max-semi-space-size=4",
    ]);
    expect(startNodeFlags("exec node dist/src/cli.js")).toEqual([]);
    expect(startNodeFlags("node --a --b=1  dist/src/cli.js serve")).toEqual(["--a", "--b=1"]);
  });

  it("gives none for a script that does not run the compiled entry point, or has non-flags before it", () => {
    expect(startNodeFlags(undefined)).toEqual([]);
    expect(startNodeFlags("tsx src/cli.ts")).toEqual([]);
    expect(startNodeFlags("dist/src/cli.js node --x")).toEqual([]);
    expect(startNodeFlags("node --import tsx dist/src/cli.js")).toEqual([]);
  });

  it("reads the project's own start script as npm start runs it", () => {
    const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { scripts: { start: string } };
    const flags = startNodeFlags(pkg.scripts.start);
    expect(pkg.scripts.start).toBe(`exec node ${[...flags, "dist/src/cli.js"].join(" ")}`);
  });
});
