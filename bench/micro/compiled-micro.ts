import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { MicroResult } from "./run-micro.js";

/** CompiledMicro is the micro-benchmarks' results and how they ran. */
export interface CompiledMicro {
  results: MicroResult[];
  /** `compiled (tsc)`, or why the pieces ran under tsx instead. */
  label: string;
}

/**
 * compiledMicro compiles src/, gen/ and bench/ with the project's own compiler
 * options into dist/micro/ and runs the micro-benchmarks there, in a child node
 * process, as production runs the code: tsx (esbuild with keepNames) wraps
 * every function expression in a call that names it, so under tsx each closure
 * a piece creates per call costs an extra defineProperty that compiled code
 * never pays. It returns null when the compilation fails, and the caller falls
 * back to running under tsx.
 */
export function compiledMicro(
  root: string,
  timeMs: number,
  log: (line: string) => void,
): CompiledMicro | null {
  const outDir = join(root, "dist/micro");
  mkdirSync(outDir, { recursive: true });
  const config = join(outDir, "tsconfig.json");
  writeFileSync(
    config,
    `${JSON.stringify({
      extends: "../../tsconfig.json",
      compilerOptions: { noEmit: false, outDir: ".", rootDir: "../..", incremental: false },
      include: ["../../src", "../../gen", "../../bench"],
      exclude: ["../../bench/results"],
    })}\n`,
  );
  try {
    log("compiling the micro-benchmarks: tsc -p dist/micro/tsconfig.json");
    execFileSync(join(root, "node_modules/.bin/tsc"), ["-p", config], {
      cwd: root,
      stdio: ["ignore", "ignore", "pipe"],
    });
  } catch (err) {
    log(
      `micro-benchmarks: compilation failed, running under tsx instead: ${String(err).slice(0, 300)}`,
    );
    return null;
  }
  const stdout = execFileSync(
    process.execPath,
    [join(outDir, "bench/micro/micro-main.js"), String(timeMs)],
    { cwd: root, stdio: ["ignore", "pipe", "inherit"], maxBuffer: 16 * 1024 * 1024 },
  );
  return {
    results: JSON.parse(stdout.toString("utf8")) as MicroResult[],
    label: "compiled (tsc, dist/micro)",
  };
}
