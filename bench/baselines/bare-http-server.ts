/**
 * bare-http-server is the REST ceiling on Node: node:http reading the request
 * body and answering a fixed generate-data-key JSON with Content-Length —
 * no routing, no SigV4, no crypto, no log.
 *
 * With `--work-us N` it first spends N µs of its own CPU time on each request (a
 * busy loop on process.cpuUsage, so time it is descheduled does not count): the
 * tail latency node:http shows when a request costs about what a gateway call
 * does, the reference for the gateway's p99 ≤ 3 × p50 target.
 */
import { createServer } from "node:http";
import { announceListening, fixedGenerateDataKeyJson, portOf } from "./fixed-responses.js";

const at = process.argv.indexOf("--work-us");
const workUs = at < 0 ? 0 : Number(process.argv[at + 1]);
if (!Number.isInteger(workUs) || workUs < 0 || workUs > 100_000) {
  throw new Error(`--work-us must be an integer from 0 to 100000, not ${process.argv[at + 1]}`);
}

/** work spins until this process has used `us` more microseconds of CPU. */
function work(us: number): void {
  const start = process.cpuUsage();
  for (;;) {
    const used = process.cpuUsage(start);
    if (used.user + used.system >= us) return;
  }
}

const body = Buffer.from(fixedGenerateDataKeyJson);
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    if (workUs > 0) work(workUs);
    res.writeHead(200, { "content-type": "application/json", "content-length": body.length });
    res.end(body);
  });
});
server.listen(0, "127.0.0.1", () =>
  announceListening(`http://127.0.0.1:${portOf(server.address())}`),
);
process.on("SIGTERM", () => process.exit(0));
