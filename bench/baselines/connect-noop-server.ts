/**
 * connect-noop-server is what the Connect library alone costs: a
 * connectNodeAdapter whose GenerateDataKey answers a fixed data key, served
 * over h2c (gRPC, `url`) and over HTTP/1.1 (Connect JSON, `connectUrl`).
 */
import { createServer as createHttpServer } from "node:http";
import { createServer as createHttp2Server } from "node:http2";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { KmsAdminService } from "../../gen/kms/admin/v1/service_pb.js";
import { announceListening, fixedDataKey, portOf } from "./fixed-responses.js";

const handler = connectNodeAdapter({
  routes: (router) => router.service(KmsAdminService, { generateDataKey: () => fixedDataKey }),
});
const h2 = createHttp2Server(handler);
const h1 = createHttpServer(handler);
h2.listen(0, "127.0.0.1", () => {
  h1.listen(0, "127.0.0.1", () =>
    announceListening(`http://127.0.0.1:${portOf(h2.address())}`, {
      connectUrl: `http://127.0.0.1:${portOf(h1.address())}`,
    }),
  );
});
process.on("SIGTERM", () => process.exit(0));
