import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { useGateway } from "../helpers/gateway-process.js";
import { useSelfSignedCert } from "../helpers/self-signed-cert.js";
import { testCredentials } from "../helpers/signed-fetch.js";

// The CLI's --tls-cert/--tls-key driven by the real curl, which negotiates
// HTTP/1.1 or h2 by ALPN and signs with its own --aws-sigv4. The npm-only TLS
// tests are in test/e2e/tls-and-presigned.test.ts.

const run = promisify(execFile);
const statusPath = "/rustfs/admin/v3/kms/status";

describe("TLS with ALPN through the CLI flags, driven by curl", () => {
  const tls = useSelfSignedCert();
  const gw = useGateway({
    spawn: () => ({ args: ["--tls-cert", tls.certPath, "--tls-key", tls.keyPath] }),
  });

  it.each(["--http1.1", "--http2"])("serves signed REST with curl %s", async (version) => {
    expect(gw.url).toMatch(/^https:/);
    const { stdout } = await run("curl", [
      "-sS",
      "--insecure",
      version,
      "-w",
      "\\n%{http_version}",
      "--aws-sigv4",
      "aws:amz:us-east-1:s3",
      "--user",
      `${testCredentials.accessKeyId}:${testCredentials.secretAccessKey}`,
      `${gw.url}${statusPath}`,
    ]);
    const [body, httpVersion] = stdout.split("\n");
    expect(JSON.parse(body ?? "")).toMatchObject({ status: "Running" });
    expect(httpVersion).toBe(version === "--http2" ? "2" : "1.1");
  });
});
