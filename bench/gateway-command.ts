import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** GatewayCommand is how the harness runs the gateway: node's arguments and a label for the report. */
export interface GatewayCommand {
  nodeArgs: string[];
  label: string;
  compiled: boolean;
}

/**
 * startNodeFlags returns the node options of package.json's start script
 * (`exec node --max-semi-space-size=4 dist/src/cli.js` gives
 * `["--max-semi-space-size=4"]`): the flags between `node` and the entry point,
 * so the benchmark serves the gateway as `npm start` does. A script that does
 * not run `node … dist/src/cli.js` gives none.
 */
export function startNodeFlags(startScript: string | undefined): string[] {
  const words = (startScript ?? "").trim().split(/\s+/);
  const node = words.indexOf("node");
  const entry = words.indexOf("dist/src/cli.js");
  if (node < 0 || entry <= node) return [];
  const flags = words.slice(node + 1, entry);
  return flags.every((flag) => flag.startsWith("--")) ? flags : [];
}

/**
 * gatewayCommand runs `npm run build` when package.json has a build script and
 * then serves the compiled `dist/src/cli.js` with the node options of the start
 * script (startNodeFlags) — production runs compiled JavaScript, started as
 * `npm start` starts it; without a build (or when it fails) it falls back to
 * `node --import tsx src/cli.ts` and says so in the label.
 */
export function gatewayCommand(root: string, log: (line: string) => void): GatewayCommand {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
    scripts?: Record<string, string>;
  };
  let note = "package.json has no build script";
  if (pkg.scripts?.build !== undefined) {
    try {
      log("building: npm run build");
      execFileSync("npm", ["run", "-s", "build"], {
        cwd: root,
        stdio: ["ignore", "ignore", "pipe"],
      });
      note = "npm run build gave no dist/src/cli.js";
    } catch (err) {
      note = `npm run build failed: ${String((err as { stderr?: unknown }).stderr ?? err).slice(0, 300)}`;
    }
  }
  if (existsSync(join(root, "dist/src/cli.js"))) {
    const flags = startNodeFlags(pkg.scripts?.start);
    return {
      nodeArgs: [...flags, "dist/src/cli.js"],
      label: `compiled: node ${[...flags, "dist/src/cli.js"].join(" ")}`,
      compiled: true,
    };
  }
  return {
    nodeArgs: ["--import", "tsx", "src/cli.ts"],
    label: `tsx: node --import tsx src/cli.ts (${note})`,
    compiled: false,
  };
}
