import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { useSelfSignedCert } from "../helpers/self-signed-cert.js";
import { useListeners } from "../helpers/use-listeners.js";
import { echo } from "../server/fixtures/echo-handler.js";

// The listener (cleartext h1 + h2c on one port, TLS with ALPN) driven by the
// real curl, an HTTP/2 implementation (nghttp2) that shares nothing with
// node's. The node-client tests are in test/server/listener.test.ts.

const run = promisify(execFile);

const start = useListeners();

describe("cleartext: HTTP/1.1 and h2c on one port, driven by curl", () => {
  it("serves curl --http1.1 and curl --http2-prior-knowledge", async () => {
    const { port } = await start(echo);
    const h1 = await run("curl", ["-sS", "--http1.1", `http://127.0.0.1:${port}/one`]);
    expect(JSON.parse(h1.stdout)).toMatchObject({ httpVersion: "1.1", url: "/one" });
    const h2 = await run("curl", [
      "-sS",
      "--http2-prior-knowledge",
      "--data-binary",
      "hello",
      `http://127.0.0.1:${port}/two`,
    ]);
    expect(JSON.parse(h2.stdout)).toMatchObject({ httpVersion: "2.0", url: "/two", bytes: 5 });
  });
});

describe("TLS with ALPN, driven by curl", () => {
  const { cert, key, certPath } = useSelfSignedCert();

  it("negotiates with curl (--http2 and --http1.1)", async () => {
    const { port } = await start(echo, { tls: { cert, key } });
    const common = ["-sS", "--cacert", certPath, "--resolve", `localhost:${port}:127.0.0.1`];
    const h2 = await run("curl", [...common, "--http2", `https://localhost:${port}/c2`]);
    expect(JSON.parse(h2.stdout)).toMatchObject({ httpVersion: "2.0", url: "/c2" });
    const h1 = await run("curl", [...common, "--http1.1", `https://localhost:${port}/c1`]);
    expect(JSON.parse(h1.stdout)).toMatchObject({ httpVersion: "1.1", url: "/c1" });
  });
});
