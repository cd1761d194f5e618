import { describe, expect, it } from "vitest";
import { createFixture, KEY_DIR } from "./engine-fixture.js";

const MASTER = "MASTER-8d1f0c5e-secret";
const TOKEN = "hvs.TOKEN-3b9a77-secret";
const SECRET_ID = "SECRETID-55c2e1-secret";

function serialise(value: unknown): string {
  if (value instanceof Error) {
    return JSON.stringify({ ...value, name: value.name, message: value.message });
  }
  return JSON.stringify(value, (_key, v: unknown) =>
    v instanceof Uint8Array ? Buffer.from(v).toString("base64") : v,
  );
}

describe("secrets", () => {
  it("never appear in any returned value, error message or log line", async () => {
    const f = await createFixture({ configure: null });
    const { engine } = f;
    const seen: unknown[] = [];
    const record = async (call: Promise<unknown>) => {
      try {
        seen.push(await call);
      } catch (error) {
        seen.push(error);
      }
    };

    await record(engine.configure({ backendType: "local", keyDir: KEY_DIR, masterKey: MASTER }));
    seen.push(engine.config());
    await record(engine.status());
    await record(engine.start());
    await record(engine.createKey({ tags: { name: "k" } }));
    await record(engine.generateDataKey({ keyId: "k", encryptionContext: { a: "b" } }));
    await record(engine.listKeys({}));
    await record(engine.status());
    await record(engine.reconfigure({ masterKey: `${MASTER}-changed` }));
    await record(engine.stop());
    await record(engine.reconfigure({ masterKey: `${MASTER}-wrong` }));
    await record(engine.start());
    await record(engine.status());
    await record(engine.reconfigure({ masterKey: "" }));
    await record(engine.configure({ backendType: "local", keyDir: "relative", masterKey: MASTER }));
    await record(
      engine.configure({
        backendType: "vault",
        address: "https://v:8200",
        authMethod: { token: TOKEN },
      }),
    );
    await record(engine.status());
    await record(engine.start());
    await record(engine.reconfigure({ authMethod: { token: `${TOKEN} with space` } }));
    await record(
      engine.reconfigure({
        authMethod: { approle: { roleId: "role", secretId: SECRET_ID } },
      }),
    );
    await record(engine.status());
    seen.push(engine.config());
    await record(engine.start());
    await record(engine.reconfigure({ address: `https://user:${SECRET_ID}@v` }));

    const text = [...seen.map(serialise), ...f.logs.map(serialise)].join("\n");
    expect(text).toContain("vault backend is not available");
    for (const secret of [MASTER, TOKEN, SECRET_ID, "8d1f0c5e", "3b9a77", "55c2e1"]) {
      expect(text).not.toContain(secret);
    }
    // The secrets were stored where they belong.
    expect(JSON.stringify(f.stateStore.state)).toContain(SECRET_ID);
  });

  it("a generated master key never leaves the state file", async () => {
    const f = await createFixture({ configure: { backendType: "local", keyDir: KEY_DIR } });
    const generated = f.stateStore.state?.generatedMasterKey;
    expect(typeof generated).toBe("string");
    const outputs = [
      await f.engine.status(),
      f.engine.config(),
      await f.engine.createKey({ tags: { name: "k" } }),
      await f.engine.generateDataKey({ keyId: "k" }),
      await f.engine.stop(),
    ];
    const text = [...outputs.map(serialise), ...f.logs.map(serialise)].join("\n");
    expect(text).not.toContain(generated as string);
    expect(text).not.toContain(Buffer.from(generated as string, "base64").toString("hex"));
  });
});
