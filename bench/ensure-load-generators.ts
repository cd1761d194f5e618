import { execFileSync, spawnSync } from "node:child_process";

const TOOLS = [
  { command: "wrk", pkg: "wrk" },
  { command: "h2load", pkg: "nghttp2-client" },
  { command: "taskset", pkg: "util-linux" },
];

function onPath(command: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0;
}

/**
 * ensureLoadGenerators installs wrk and h2load (Debian packages `wrk` and
 * `nghttp2-client`) with apt-get when they are missing. apt-get needs root,
 * which the harness has on these machines; elsewhere install them yourself.
 */
export function ensureLoadGenerators(log: (line: string) => void): void {
  const missing = TOOLS.filter((tool) => !onPath(tool.command));
  if (missing.length === 0) return;
  const packages = missing.map((tool) => tool.pkg);
  log(`installing ${packages.join(", ")} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
  execFileSync("apt-get", ["install", "-y", "-qq", ...packages], { stdio: "inherit", env });
  const still = missing.filter((tool) => !onPath(tool.command));
  if (still.length > 0) {
    throw new Error(`still missing after apt-get: ${still.map((t) => t.command).join(", ")}`);
  }
}
