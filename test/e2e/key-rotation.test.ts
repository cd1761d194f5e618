import { afterAll, describe, expect, it } from "vitest";
import { parseEnvelope } from "../../src/engine/envelope.js";
import { type GatewayProcess, newDataDir, startGateway } from "../helpers/gateway-process.js";
import { signedFetch } from "../helpers/signed-fetch.js";

// Rotation against a real gateway process over REST: every older version's
// ciphertexts still decrypt after rotations and after the process is killed
// (SIGKILL) and restarted on the same data directory; new wraps carry the
// newest version; and generate / decrypt running while the key rotates never
// fail.

const api = "/rustfs/admin/v3/kms";
const dataDir = newDataDir();
let gw: GatewayProcess;

afterAll(async () => {
  await gw?.stop();
});

async function call(method: string, path: string, body?: unknown) {
  return signedFetch(gw.url, method, `${api}${path}`, {
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

interface Wrapped {
  version: number;
  blob: string;
  context: Record<string, string>;
  /** The plaintext: a data key (base64) or the encrypted text (base64). */
  plaintext: string;
}

const versionOf = (blob: string) => parseEnvelope(Buffer.from(blob, "base64")).keyVersion;

async function generate(keyId: string, context: Record<string, string>): Promise<Wrapped> {
  const answer = await call("POST", "/generate-data-key", {
    key_id: keyId,
    encryption_context: context,
  });
  expect(answer.status, answer.text).toBe(200);
  const json = answer.json as { ciphertext_blob: string; plaintext_key: string };
  return {
    version: versionOf(json.ciphertext_blob),
    blob: json.ciphertext_blob,
    context,
    plaintext: json.plaintext_key,
  };
}

async function encrypt(keyId: string, context: Record<string, string>): Promise<Wrapped> {
  const plaintext = Buffer.from(`secret under ${JSON.stringify(context)}`).toString("base64");
  const answer = await call("POST", "/encrypt", {
    key_id: keyId,
    plaintext,
    encryption_context: context,
  });
  expect(answer.status, answer.text).toBe(200);
  const json = answer.json as { ciphertext_blob: string; key_id: string };
  expect(json.key_id).toBe(keyId);
  return {
    version: versionOf(json.ciphertext_blob),
    blob: json.ciphertext_blob,
    context,
    plaintext,
  };
}

async function expectDecrypts(wrapped: Wrapped): Promise<void> {
  const answer = await call("POST", "/decrypt", {
    ciphertext_blob: wrapped.blob,
    encryption_context: wrapped.context,
  });
  expect(answer.status, answer.text).toBe(200);
  expect((answer.json as { plaintext_key: string }).plaintext_key).toBe(wrapped.plaintext);
}

async function rotate(keyId: string): Promise<Record<string, unknown>> {
  const answer = await call("POST", "/keys/rotate", { key_id: keyId });
  expect(answer.status, answer.text).toBe(200);
  return (answer.json as { key_metadata: Record<string, unknown> }).key_metadata;
}

describe("rotation", () => {
  it("keeps versions 1..3 decryptable through rotations and a SIGKILL restart", async () => {
    gw = await startGateway({ dataDir });
    expect((await call("POST", "/keys", { Tags: { name: "rot" } })).status).toBe(200);
    const made: Wrapped[] = [];
    const wrapBoth = async (version: number) => {
      const context = { version: `${version}` };
      for (const wrapped of [await generate("rot", context), await encrypt("rot", context)]) {
        expect(wrapped.version).toBe(version);
        made.push(wrapped);
      }
    };
    await wrapBoth(1);
    const created = (await call("GET", "/keys/rot")).json as {
      key_metadata: Record<string, unknown>;
    };
    expect(created.key_metadata).toMatchObject({ key_version: 1, rotation_date: null });
    for (const version of [2, 3]) {
      const meta = await rotate("rot");
      expect(meta.key_version).toBe(version);
      expect(typeof meta.rotation_date).toBe("string");
      expect(meta.creation_date).toBe(created.key_metadata.creation_date);
      await wrapBoth(version);
    }
    // New data keys carry version 3, the current one.
    expect((await generate("rot", {})).version).toBe(3);
    // A third rotation: versions 1..3 are all older now, and all still decrypt.
    expect((await rotate("rot")).key_version).toBe(4);
    for (const wrapped of made) await expectDecrypts(wrapped);
    expect((await generate("rot", {})).version).toBe(4);

    // A re-encrypt moves a version-1 blob onto the current version.
    const first = made[0] as Wrapped;
    const moved = await call("POST", "/re-encrypt", {
      ciphertext_blob: first.blob,
      encryption_context: first.context,
      destination_encryption_context: first.context,
    });
    expect(moved.status, moved.text).toBe(200);
    const movedJson = moved.json as { ciphertext_blob: string; key_id: string };
    expect(moved.json).toMatchObject({ key_id: "rot", source_key_id: "rot" });
    expect(versionOf(movedJson.ciphertext_blob)).toBe(4);
    await expectDecrypts({ ...first, version: 4, blob: movedJson.ciphertext_blob });

    // A crash, then a restart on the same data directory.
    expect(await gw.stop("SIGKILL")).toBeNull();
    gw = await startGateway({ dataDir });
    const after = (await call("GET", "/keys/rot")).json as {
      key_metadata: Record<string, unknown>;
    };
    expect(after.key_metadata.key_version).toBe(4);
    for (const wrapped of made) await expectDecrypts(wrapped);
    expect((await generate("rot", {})).version).toBe(4);
  });

  it("never fails a generate or decrypt while the key rotates under it", async () => {
    expect((await call("POST", "/keys", { Tags: { name: "busy" } })).status).toBe(200);
    const workers = 4;
    const perWorker = 20;
    const total = workers * perWorker;
    let generated = 0;
    const versions = new Set<number>();
    const failures: string[] = [];

    async function worker(n: number): Promise<void> {
      for (let i = 0; i < perWorker; i++) {
        const context = { worker: `${n}`, i: `${i}` };
        const wrapped = await generate("busy", context);
        versions.add(wrapped.version);
        generated++;
        const answer = await call("POST", "/decrypt", {
          ciphertext_blob: wrapped.blob,
          encryption_context: context,
        });
        const plaintext = (answer.json as { plaintext_key?: string } | undefined)?.plaintext_key;
        if (answer.status !== 200 || plaintext !== wrapped.plaintext) {
          failures.push(`${answer.status} ${answer.text}`);
        }
      }
    }

    // Rotate after every 10 data keys, so rotations land between and during
    // the workers' requests rather than all before or after them.
    async function rotator(): Promise<number> {
      let rotations = 0;
      let nextAt = 10;
      while (generated < total) {
        if (generated >= nextAt) {
          await rotate("busy");
          rotations++;
          nextAt += 10;
        } else {
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
      }
      return rotations;
    }

    const [rotations] = await Promise.all([
      rotator(),
      ...Array.from({ length: workers }, (_, n) => worker(n)),
    ]);
    expect(failures).toEqual([]);
    expect(rotations).toBeGreaterThanOrEqual(3);
    expect(versions.size).toBeGreaterThanOrEqual(2);
    const meta = (await call("GET", "/keys/busy")).json as {
      key_metadata: { key_version: number };
    };
    expect(meta.key_metadata.key_version).toBe(rotations + 1);
  });
});
