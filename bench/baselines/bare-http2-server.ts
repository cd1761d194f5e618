/**
 * bare-http2-server is the gRPC ceiling on Node: node:http2 (h2c) reading the
 * request stream and answering a fixed GenerateDataKey response frame with
 * `grpc-status: 0` trailers — no protobuf decoding, no framework.
 */
import { constants, createServer } from "node:http2";
import { announceListening, fixedGenerateDataKeyFrame, portOf } from "./fixed-responses.js";

const frame = Buffer.from(fixedGenerateDataKeyFrame);
const server = createServer();
server.on("stream", (stream) => {
  stream.on("data", () => {});
  stream.on("end", () => {
    stream.respond(
      { [constants.HTTP2_HEADER_STATUS]: 200, "content-type": "application/grpc" },
      { waitForTrailers: true },
    );
    stream.once("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
    stream.end(frame);
  });
});
server.listen(0, "127.0.0.1", () =>
  announceListening(`http://127.0.0.1:${portOf(server.address())}`),
);
process.on("SIGTERM", () => process.exit(0));
