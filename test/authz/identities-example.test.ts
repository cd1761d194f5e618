import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseIdentities } from "../../src/auth/identities-file.js";
import { permissionsOf } from "../../src/auth/permissions.js";

// The sample identities file of docs/identities.md is valid and means what the doc says.

const sample = JSON.parse(
  readFileSync(new URL("../../docs/identities.example.json", import.meta.url), "utf8"),
) as unknown;
const env = Object.fromEntries(
  ["OBJECTSTORE", "KEYADMIN", "AUDITOR", "OPERATOR", "BACKUP"].map((n) => [
    `KMS_${n}_SECRET`,
    `${n.toLowerCase()}-secret-0123`,
  ]),
);

describe("docs/identities.example.json", () => {
  const byKey = Object.fromEntries(
    parseIdentities(sample, env).map((c) => [c.identity.accessKey, permissionsOf(c.identity)]),
  );

  it("parses, every secret taken from the environment", () => {
    expect(Object.keys(byKey).sort()).toEqual(
      ["auditor", "backup-reader", "keyadmin", "objectstore", "operator"].sort(),
    );
  });

  it("gives each identity what its display name says", () => {
    const p = byKey as Record<string, ReturnType<typeof permissionsOf>>;
    expect(p.objectstore?.allows("kms:GenerateDataKey", ["objectstore-1"])).toBe(true);
    expect(p.objectstore?.allows("kms:GenerateDataKey", ["payroll-1"])).toBe(false);
    expect(p.keyadmin?.allows("kms:RotateKey", ["any"])).toBe(true);
    expect(p.keyadmin?.allows("kms:Decrypt", ["any"])).toBe(false);
    expect(p.auditor?.allows("kms:ReadConfig", [])).toBe(true);
    expect(p.auditor?.allows("kms:ServiceControl", [])).toBe(false);
    expect(p.operator?.allows("kms:ServiceControl", [])).toBe(true);
    expect(p.operator?.mayEver("kms:GenerateDataKey")).toBe(false);
    expect(p["backup-reader"]?.allows("kms:Decrypt", ["reports-1"])).toBe(true);
    expect(p["backup-reader"]?.allows("kms:Decrypt", ["payroll-2026"])).toBe(false);
  });
});
