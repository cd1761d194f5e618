import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createStaticCredentialStore } from "../../src/auth/credential-store.js";
import { createRootIdentity } from "../../src/auth/identity.js";
import { createGateway } from "../../src/server/gateway.js";
import { type GatewayProcess, newDataDir, startGateway } from "../helpers/gateway-process.js";
import { signedFetch } from "../helpers/signed-fetch.js";

// Rekey (issue 7 item 6) under real crashes: a gateway process is SIGKILLed at
// a random point of a rekey over 1,000 keys, several rounds. After each
// restart every key opens, every data key issued before decrypts, and the
// restart finishes or rolls back the rekey (the keyring settles on one KEK).

const api = "/rustfs/admin/v3/kms";
const KEY_COUNT = 1000;
const ROUNDS = 4;
const PASSPHRASE = "rekey crash passphrase 0x5eed";
const RAW_KEY = Buffer.alloc(32, 0x5a).toString("base64");
const keyId = (i: number) => `rk-${String(i).padStart(4, "0")}`;

/** A small seeded generator, so a failing round can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

interface IssuedDataKey {
  key_id: string;
  plaintext_key: string;
  ciphertext_blob: string;
}

/** seed creates the keys and data keys through the engine in this process, as bench/seed-keys.ts does. */
async function seed(dataDir: string): Promise<IssuedDataKey[]> {
  const gateway = await createGateway({
    dataDir,
    credentials: createStaticCredentialStore([
      { identity: createRootIdentity("rekey-seeder"), secretKey: "rekey-seeder-unused" },
    ]),
    log: () => {},
  });
  try {
    const { engine } = gateway;
    await engine.configure({ backendType: "local", masterKey: PASSPHRASE });
    await engine.start();
    let next = 0;
    const worker = async () => {
      while (next < KEY_COUNT) await engine.createKey({ tags: { name: keyId(next++) } });
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    const issued: IssuedDataKey[] = [];
    for (let i = 0; i < KEY_COUNT; i += 50) {
      const dk = await engine.generateDataKey({
        keyId: keyId(i),
        encryptionContext: { i: `${i}` },
      });
      issued.push({
        key_id: dk.keyId,
        plaintext_key: Buffer.from(dk.plaintextKey).toString("base64"),
        ciphertext_blob: Buffer.from(dk.ciphertextBlob).toString("base64"),
      });
    }
    return issued;
  } finally {
    await gateway.close();
  }
}

describe("rekey under SIGKILL", () => {
  it(`leaves all ${KEY_COUNT} keys and every issued data key usable across crashes at random points`, async () => {
    const dataDir = newDataDir();
    const issued = await seed(dataDir);
    const keyring = join(dataDir, "keys", "keyring.bin");
    const rand = random(Number(process.env.KMS_REKEY_SEED ?? 7));
    let gw: GatewayProcess = await startGateway({ dataDir });
    const call = (method: string, path: string, body?: unknown) =>
      signedFetch(gw.url, method, `${api}${path}`, {
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const storedKey = () =>
      JSON.parse(readFileSync(join(dataDir, "kms-state.json"), "utf8")).config.backend.masterKey;

    const expectEverythingOpens = async (round: string, keyStep = 1) => {
      expect((await call("GET", "/status")).json, round).toMatchObject({ status: "Running" });
      for (const dk of issued) {
        const i = dk.key_id.slice(3).replace(/^0+(?=\d)/, "");
        const res = await call("POST", "/decrypt", {
          ciphertext_blob: dk.ciphertext_blob,
          encryption_context: { i },
        });
        expect(res.json, `${round}: ${dk.key_id}`).toEqual({
          key_id: dk.key_id,
          plaintext_key: dk.plaintext_key,
        });
      }
      let next = 0;
      const worker = async () => {
        while (next < KEY_COUNT) {
          const id = keyId(next);
          next += keyStep;
          const res = await call("POST", "/generate-data-key", { key_id: id });
          expect(res.status, `${round}: generate under ${id}`).toBe(200);
        }
      };
      await Promise.all(Array.from({ length: 8 }, worker));
    };

    const waitSettled = async (round: string) => {
      for (let i = 0; i < 600 && "rekey" in JSON.parse(readFileSync(keyring, "utf8")); i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(JSON.parse(readFileSync(keyring, "utf8")), round).not.toHaveProperty("rekey");
    };

    try {
      // Round 0 runs to the end, to time a whole rekey over the keys.
      const started = performance.now();
      const first = await call("POST", "/rekey", { master_key: RAW_KEY });
      const rekeyMs = performance.now() - started;
      expect(first.json).toEqual({
        success: true,
        message: `master key changed: ${KEY_COUNT} keys resealed`,
        status: "Running",
        keys_resealed: KEY_COUNT,
      });
      console.log(`rekey of ${KEY_COUNT} keys: ${Math.round(rekeyMs)} ms`);
      expect(storedKey()).toBe(RAW_KEY);
      await expectEverythingOpens("after a whole rekey");

      const outcomes: string[] = [];
      for (let round = 1; round <= ROUNDS; round++) {
        const from = storedKey();
        const to = from === RAW_KEY ? PASSPHRASE : RAW_KEY;
        // Up to 1.5 × a whole rekey, so some kills land after it (or its commit).
        const delayMs = Math.floor(rand() * rekeyMs * 1.5);
        const pending = call("POST", "/rekey", { master_key: to }).catch(() => null);
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        await gw.stop("SIGKILL");
        await pending;
        const midRekey = "rekey" in JSON.parse(readFileSync(keyring, "utf8"));
        gw = await startGateway({ dataDir });
        const label = `round ${round} (killed after ${delayMs} ms)`;
        await expectEverythingOpens(label);
        await waitSettled(label);
        outcomes.push(
          `${label}: ${midRekey ? "mid-rekey" : "settled"}, restart ${storedKey() === to ? "finished" : "rolled back"}`,
        );
        // Settled: the data keys, and every 10th key (all of them were checked above).
        await expectEverythingOpens(`${label}, settled`, 10);
      }
      console.log(outcomes.join("\n"));
      expect(existsSync(keyring)).toBe(true);
    } finally {
      await gw.stop();
    }
  }, 600_000);
});
