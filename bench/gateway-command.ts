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
 * gatewayCommand runs `npm run build` when package.json has a build script and
 * then serves the compiled `dist/src/cli.js` — production runs compiled
 * JavaScript; without a build (or when it fails) it falls back to
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
    return {
      nodeArgs: ["dist/src/cli.js"],
      label: "compiled: node dist/src/cli.js",
      compiled: true,
    };
  }
  return {
    nodeArgs: ["--import", "tsx", "src/cli.ts"],
    label: `tsx: node --import tsx src/cli.ts (${note})`,
    compiled: false,
  };
}
