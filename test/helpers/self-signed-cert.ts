import { copyFile, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";

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
 * makeSelfSignedCert copies the committed test certificate and its key into a
 * fresh temporary directory (the caller may delete it) and reads them. The
 * certificate is a fixture rather than generated per run so that `npm test`
 * needs no `openssl` binary, only Node.
 */
export async function makeSelfSignedCert(): Promise<SelfSignedCert> {
  const dir = await mkdtemp(join(tmpdir(), "kms-gateway-tls-"));
  const certPath = join(dir, "cert.pem");
  const keyPath = join(dir, "key.pem");
  await copyFile(new URL("cert.pem", fixtureDir), certPath);
  await copyFile(new URL("key.pem", fixtureDir), keyPath);
  return { dir, certPath, keyPath, cert: await readFile(certPath), key: await readFile(keyPath) };
}

/**
 * useSelfSignedCert registers, in the calling file or describe block, a
 * makeSelfSignedCert before its cases and the removal of its directory after
 * them. It returns a view of the certificate, usable inside cases and hooks
 * registered after it (it throws before the certificate exists).
 */
export function useSelfSignedCert(): SelfSignedCert {
  let current: SelfSignedCert | undefined;
  const made = (): SelfSignedCert => {
    if (current === undefined) throw new Error("the test certificate is not made yet");
    return current;
  };
  beforeAll(async () => {
    current = await makeSelfSignedCert();
  });
  afterAll(async () => {
    if (current !== undefined) await rm(current.dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      return made().dir;
    },
    get certPath() {
      return made().certPath;
    },
    get keyPath() {
      return made().keyPath;
    },
    get cert() {
      return made().cert;
    },
    get key() {
      return made().key;
    },
  };
}
