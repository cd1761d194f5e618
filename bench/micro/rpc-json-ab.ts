/**
 * rpc-json-ab compares the compiled JSON codecs of the Connect JSON and AWS JSON paths with
 * their reflective references (rpcJsonPairs), alternating them in one process: for each
 * round, each pair's compiled piece then its reference runs back to back for the given
 * milliseconds (loopCpuUsPerOp), so a load change on a shared machine hits both alike. It
 * prints the median process CPU µs per operation of each over the rounds, and the ratio.
 * Run it compiled, after `npm run bench -- --micro` has built dist/micro:
 * `node dist/micro/bench/micro/rpc-json-ab.js [ms per piece, 200] [rounds, 7]`.
 */
import { formatTable } from "../format-table.js";
import { percentile } from "../percentile.js";
import { rpcJsonPairs } from "./rpc-json-micro.js";
import { loopCpuUsPerOp } from "./run-micro.js";

const timeMs = Number(process.argv[2] ?? 200);
const rounds = Number(process.argv[3] ?? 7);
if (!(timeMs > 0) || !Number.isInteger(rounds) || rounds < 1) {
  process.stderr.write("usage: node rpc-json-ab.js [ms per piece] [rounds]\n");
  process.exit(2);
}
const pairs = rpcJsonPairs();
const samples = pairs.map(() => ({ compiled: [] as number[], reflective: [] as number[] }));
// Warm both sides up before the first sample.
for (const pair of pairs) {
  await loopCpuUsPerOp(pair.compiled, timeMs);
  await loopCpuUsPerOp(pair.reflective, timeMs);
}
for (let round = 0; round < rounds; round++) {
  for (const [i, pair] of pairs.entries()) {
    const s = samples[i] as (typeof samples)[number];
    s.compiled.push(await loopCpuUsPerOp(pair.compiled, timeMs));
    s.reflective.push(await loopCpuUsPerOp(pair.reflective, timeMs));
  }
}
process.stdout.write(
  `${formatTable(
    ["piece", "compiled CPU µs/op", "reflective CPU µs/op", "reflective / compiled"],
    pairs.map((pair, i) => {
      const s = samples[i] as (typeof samples)[number];
      const compiled = percentile(
        [...s.compiled].sort((a, b) => a - b),
        50,
      );
      const reflective = percentile(
        [...s.reflective].sort((a, b) => a - b),
        50,
      );
      return [
        pair.name,
        compiled.toFixed(2),
        reflective.toFixed(2),
        `${(reflective / compiled).toFixed(1)}×`,
      ];
    }),
  )}\n(median of ${rounds} alternating rounds of ${timeMs} ms each)\n`,
);
