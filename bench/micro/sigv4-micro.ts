import { createStaticCredentialStore } from "../../src/auth/credential-store.js";
import { createRootIdentity } from "../../src/auth/identity.js";
import { verifySigV4 } from "../../src/auth/verify-sigv4.js";
import { signRestRequest } from "../sign-rest-request.js";
import type { MicroBench } from "./micro-bench.js";

const credentials = { accessKeyId: "bench-admin", secretAccessKey: "bench-secret-0123456789" };

/**
 * sigv4Micro times verifySigV4 on a signed REST generate-data-key request
 * (body hashed), as the edge calls it, with the signing key cached after the
 * first call.
 */
export async function sigv4Micro(): Promise<MicroBench[]> {
  const store = createStaticCredentialStore([
    {
      identity: createRootIdentity(credentials.accessKeyId),
      secretKey: credentials.secretAccessKey,
    },
  ]);
  const spec = await signRestRequest({
    baseUrl: "http://127.0.0.1:9000",
    method: "POST",
    path: "/rustfs/admin/v3/kms/generate-data-key",
    body: JSON.stringify({ key_id: "bench-000000" }),
    credentials,
  });
  const req = {
    method: spec.method,
    rawPath: spec.path,
    rawQuery: "",
    headers: spec.headers,
    body: spec.body,
  };
  const verify = () => {
    const result = verifySigV4(req, store);
    if (!result.ok) throw new Error(`sigv4 micro-benchmark: ${result.reason}`);
  };
  verify();
  return [{ name: "SigV4 verify (signed body, cached signing key)", targetUs: 3, fn: verify }];
}
