import { describe, expect, it } from "vitest";
import { keyIdOfVaultName, vaultKeyName } from "../../../src/backends/vault/vault-key-name.js";
import {
  decodeVaultKeyRecord,
  encodeVaultKeyRecord,
} from "../../../src/backends/vault/vault-key-record.js";
import { vaultKmsError } from "../../../src/backends/vault/vault-kms-error.js";
import { VaultRequestError } from "../../../src/backends/vault/vault-request-error.js";
import { resolveConfig } from "../../../src/engine/resolve-config.js";
import { expectKmsError } from "../../helpers/expect-kms-error.js";
import { sampleKey } from "../key-backend-contract.js";

describe("Vault key names", () => {
  it("uses a key id as it is when Transit accepts it as a name", () => {
    for (const id of ["photos", "a", "0", "_", "a.b-c_d", "3f2c9e1a-8b7d-4c6e-9f0a-1b2c3d4e5f60"]) {
      expect(vaultKeyName(id)).toBe(id);
      expect(keyIdOfVaultName(id)).toBe(id);
    }
  });

  it("escapes the others one-to-one, longer than any key id", () => {
    const odd = [".", "..", "-", "-a", "a-", ".a", "a.", `${"x".repeat(127)}-`];
    const names = odd.map(vaultKeyName);
    expect(new Set(names).size).toBe(odd.length);
    for (const [i, name] of names.entries()) {
      expect(name.length).toBeGreaterThan(128);
      expect(name).toMatch(/^[0-9a-f]+_z*$/);
      expect(keyIdOfVaultName(name)).toBe(odd[i]);
    }
  });

  it("ignores names it never makes (a short name Transit accepts is an id as it is)", () => {
    expect(keyIdOfVaultName("2e_zzzz")).toBe("2e_zzzz");
    for (const name of ["-x", "a.", `${"0".repeat(129)}`, `${"zz".repeat(70)}`]) {
      expect(keyIdOfVaultName(name)).toBeNull();
    }
  });
});

describe("the KV record of a key", () => {
  it("round-trips every field, with no key material in it", () => {
    const key = sampleKey("rec", {
      keyState: "PendingDeletion",
      stateBeforeDeletion: "Disabled",
      deletionDate: new Date("2026-05-01T00:00:00.000Z"),
      tags: { name: "rec", __proto__: "kept" } as Record<string, string>,
    });
    const json = JSON.parse(JSON.stringify(encodeVaultKeyRecord(key)));
    expect(json).toMatchObject({ format: 1, key_id: "rec", key_state: "PendingDeletion" });
    const back = decodeVaultKeyRecord("rec", json);
    expect(back.deletionDate?.toISOString()).toBe("2026-05-01T00:00:00.000Z");
    expect(back.versions.map((v) => v.version)).toEqual([1, 2]);
    expect(Object.keys(back.tags)).toEqual(Object.keys(key.tags));
  });

  it("refuses a damaged record naming the field, never a value", () => {
    const json = JSON.parse(JSON.stringify(encodeVaultKeyRecord(sampleKey("dmg"))));
    const cases: [Record<string, unknown>, string][] = [
      [{ ...json, key_id: "other" }, "key_id"],
      [{ ...json, key_state: "Gone" }, "key_state"],
      [{ ...json, creation_date: "yesterday" }, "creation_date"],
      [{ ...json, versions: [] }, "versions"],
      [{ ...json, tags: { a: 1 } }, "tags"],
    ];
    for (const [record, field] of cases) {
      expect(() => decodeVaultKeyRecord("dmg", record)).toThrow(`(${field})`);
    }
  });
});

describe("Vault failures as engine errors", () => {
  it("maps unreachable and failing-fast to 503, denied and refused to 500, without Vault's text", () => {
    const err = (kind: VaultRequestError["kind"], status: number | null) =>
      vaultKmsError(new VaultRequestError(kind, "read secret/data/x", status, ["raw vault text"]));
    expect(err("unavailable", null).code).toBe("BACKEND_UNAVAILABLE");
    expect(err("unavailable", 503).code).toBe("BACKEND_UNAVAILABLE");
    expect(err("timeout", null).code).toBe("BACKEND_UNAVAILABLE");
    expect(err("circuit-open", null).code).toBe("BACKEND_UNAVAILABLE");
    expect(err("overloaded", null).code).toBe("BACKEND_UNAVAILABLE");
    expect(err("denied", 403)).toMatchObject({ code: "BACKEND_ERROR" });
    expect(err("denied", 403).message).toMatch(/^Vault denied the request/);
    expect(err("rejected", 400).message).toBe("Vault refused the request (HTTP 400)");
    for (const kind of ["unavailable", "denied", "rejected"] as const) {
      expect(err(kind, 400).message).not.toContain("raw vault text");
    }
  });
});

describe("backend_type spellings", () => {
  it("accepts the Transit spellings and refuses the KV-only mode saying what is supported", async () => {
    const base = { address: "http://127.0.0.1:8200", authMethod: { token: "t" } };
    for (const backendType of ["vault", "Vault", "VaultTransit", "vault-transit"]) {
      expect(resolveConfig({ ...base, backendType }, null, "/k").backend.backendType).toBe("vault");
    }
    for (const backendType of ["VaultKV2", "vault-kv2"]) {
      const error = await Promise.resolve()
        .then(() => resolveConfig({ ...base, backendType }, null, "/k"))
        .catch((e: unknown) => e);
      await expectKmsError(Promise.reject(error), "INVALID_ARGUMENT");
      expect((error as Error).message).toMatch(/not supported: use vault \(VaultTransit/);
    }
  });
});
