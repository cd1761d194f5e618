/**
 * bare-http-server is the REST ceiling on Node: node:http reading the request
 * body and answering a fixed generate-data-key JSON with Content-Length —
 * no routing, no SigV4, no crypto, no log.
 */
import { createServer } from "node:http";
import { announceListening, fixedGenerateDataKeyJson, portOf } from "./fixed-responses.js";

const body = Buffer.from(fixedGenerateDataKeyJson);
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    res.writeHead(200, { "content-type": "application/json", "content-length": body.length });
    res.end(body);
  });
});
server.listen(0, "127.0.0.1", () =>
  announceListening(`http://127.0.0.1:${portOf(server.address())}`),
);
process.on("SIGTERM", () => process.exit(0));
