import { execFile } from "node:child_process";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

/** SelfSignedCert is a throwaway certificate for localhost / 127.0.0.1, on disk and in memory. */
export interface SelfSignedCert {
  dir: string;
  certPath: string;
  keyPath: string;
  cert: Buffer;
  key: Buffer;
}

/**
 * makeSelfSignedCert makes a P-256 certificate valid for a day with the real
 * openssl CLI (part of Debian's base image; .ci/run installs it if missing).
 */
export async function makeSelfSignedCert(): Promise<SelfSignedCert> {
  const dir = await mkdtemp(join(tmpdir(), "kms-gateway-tls-"));
  const certPath = join(dir, "cert.pem");
  const keyPath = join(dir, "key.pem");
  await promisify(execFile)("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-subj",
    "/CN=localhost",
    "-addext",
    "subjectAltName=DNS:localhost,IP:127.0.0.1",
    "-days",
    "1",
    "-keyout",
    keyPath,
    "-out",
    certPath,
  ]);
  return { dir, certPath, keyPath, cert: await readFile(certPath), key: await readFile(keyPath) };
}
