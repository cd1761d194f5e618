import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Hash } from "@smithy/hash-node";
import { SignatureV4 } from "@smithy/signature-v4";
import { describe, expect, it } from "vitest";
import { KmsAdminService } from "../../gen/kms/admin/v1/service_pb.js";
import { useGateway } from "../helpers/gateway-process.js";
import { useSelfSignedCert } from "../helpers/self-signed-cert.js";
import { testCredentials } from "../helpers/signed-fetch.js";
import { sigv4Interceptor } from "../helpers/sigv4-headers.js";

// The CLI's --tls-cert/--tls-key (TLS with ALPN h2 and http/1.1 on one port),
// and SigV4's presigned form, end to end. The same TLS port driven by the real
// curl is in test/interop/tls-curl.test.ts.

const statusPath = "/rustfs/admin/v3/kms/status";

describe("TLS with ALPN through the CLI flags", () => {
  const tls = useSelfSignedCert();
  const gw = useGateway({
    spawn: () => ({ args: ["--tls-cert", tls.certPath, "--tls-key", tls.keyPath] }),
  });

  it("serves gRPC over TLS", async () => {
    const transport = createGrpcTransport({
      baseUrl: gw.url,
      // The certificate names 127.0.0.1, so it is verified for real.
      nodeOptions: { ca: tls.cert },
      interceptors: [sigv4Interceptor()],
    });
    const status = await createClient(KmsAdminService, transport).getStatus({});
    expect(status.status).toBe("Running");
  });
});

describe("presigned URLs", () => {
  const gw = useGateway();

  async function presign(expiresIn: number, signingDate = new Date()): Promise<string> {
    const url = new URL(statusPath, gw.url);
    const signer = new SignatureV4({
      credentials: testCredentials,
      region: "us-east-1",
      service: "s3",
      sha256: Hash.bind(null, "sha256"),
    });
    const signed = await signer.presign(
      {
        method: "GET",
        protocol: "http:",
        hostname: url.hostname,
        port: Number(url.port),
        path: url.pathname,
        query: {},
        headers: { host: url.host },
      },
      { expiresIn, signingDate },
    );
    const query = new URLSearchParams(signed.query as Record<string, string>).toString();
    return `${url.origin}${url.pathname}?${query}`;
  }

  it("accepts a presigned GET with no headers", async () => {
    const res = await fetch(await presign(300));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "Running" });
  });

  it("refuses an expired presigned URL", async () => {
    const res = await fetch(await presign(60, new Date(Date.now() - 120_000)));
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: "AccessDenied" });
  });
});
