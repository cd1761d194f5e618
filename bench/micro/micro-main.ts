/**
 * micro-main is the entry point of the compiled micro-benchmarks (see
 * compiledMicro): it runs every piece for the milliseconds given as its one
 * argument and prints the results as JSON on stdout.
 */
import { runMicro } from "./run-micro.js";

const timeMs = Number(process.argv[2]);
if (!Number.isFinite(timeMs) || timeMs <= 0) {
  process.stderr.write("usage: node micro-main.js <milliseconds per piece>\n");
  process.exit(2);
}
process.stdout.write(`${JSON.stringify(await runMicro(timeMs))}\n`);
