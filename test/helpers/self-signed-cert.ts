import { copyFileSync, mkdtempSync, readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";

/** SelfSignedCert is a test-only certificate for localhost / 127.0.0.1 / ::1, on disk and in memory. */
export interface SelfSignedCert {
  dir: string;
  certPath: string;
  keyPath: string;
  cert: Buffer;
  key: Buffer;
}

/** The committed fixture (see test/fixtures/tls/README.md for how it was made). */
const fixtureDir = new URL("../fixtures/tls/", import.meta.url);

/**
 * useSelfSignedCert copies the committed test certificate and its key into a
 * fresh temporary directory, reads them, and registers the removal of that
 * directory after the calling file or describe block. The certificate is a
 * fixture rather than generated per run so that `npm test` needs no `openssl`
 * binary, only Node; it is copied at once (not in a hook) so that the paths
 * and bytes can be used anywhere in the block.
 */
export function useSelfSignedCert(): SelfSignedCert {
  const dir = mkdtempSync(join(tmpdir(), "kms-gateway-tls-"));
  const certPath = join(dir, "cert.pem");
  const keyPath = join(dir, "key.pem");
  copyFileSync(new URL("cert.pem", fixtureDir), certPath);
  copyFileSync(new URL("key.pem", fixtureDir), keyPath);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  return { dir, certPath, keyPath, cert: readFileSync(certPath), key: readFileSync(keyPath) };
}
