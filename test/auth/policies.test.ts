import { chmod, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cannedPolicy } from "../../src/auth/canned-policies.js";
import { evaluatePolicies } from "../../src/auth/evaluate-policies.js";
import { readIdentitiesFile } from "../../src/auth/identities-file.js";
import { KMS_ACTIONS, type KmsAction, SERVICE_LEVEL_ACTIONS } from "../../src/auth/kms-actions.js";
import { type PolicyDocument, parsePolicyDocument } from "../../src/auth/policy-document.js";
import { wildcardMatch } from "../../src/auth/wildcard-match.js";
import { fuzzRuns, fuzzSeed } from "../helpers/fuzz-settings.js";

const policy = (...statements: object[]): PolicyDocument =>
  parsePolicyDocument({ Version: "2012-10-17", Statement: statements }, "policy");
const canned = (name: string): PolicyDocument => {
  const p = cannedPolicy(name);
  if (!p) throw new Error(`no canned policy ${name}`);
  return p;
};
/** allows evaluates one call: service-level actions touch no key, the others key `app-1`. */
const allows = (policies: PolicyDocument[], action: KmsAction, keys?: string[]) =>
  evaluatePolicies(policies, action, keys ?? (SERVICE_LEVEL_ACTIONS.has(action) ? [] : ["app-1"]))
    .allowed;

describe("wildcardMatch", () => {
  it.each([
    ["app-*", "app-1", true],
    ["app-*", "app-", true],
    ["app-*", "other", false],
    ["a?c", "abc", true],
    ["a?c", "ac", false],
    ["*", "", true],
    ["*-*-*", "a-b-c", true],
    ["a*b*c", "aXbYbZc", true],
    ["a*b*c", "aXbYbZ", false],
    ["", "", true],
    ["", "x", false],
  ])("%s ~ %s → %s", (pattern, value, expected) => {
    expect(wildcardMatch(pattern, value)).toBe(expected);
  });

  it("agrees with an anchored regular expression on random patterns", () => {
    const chars = fc.constantFrom("a", "b", "*", "?");
    fc.assert(
      fc.property(
        fc.string({ unit: chars, maxLength: 8 }),
        fc.string({ unit: fc.constantFrom("a", "b"), maxLength: 10 }),
        (pattern, value) => {
          const regex = new RegExp(`^${pattern.replace(/\*/g, ".*").replace(/\?/g, ".")}$`);
          expect(wildcardMatch(pattern, value)).toBe(regex.test(value));
        },
      ),
      { seed: fuzzSeed, numRuns: fuzzRuns(500) },
    );
  });
});

describe("parsePolicyDocument", () => {
  it.each([
    [
      {
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: "kms:Decrypt", Condition: {} }],
      },
      /Condition: not supported/,
    ],
    [
      { Version: "2012-10-17", Statement: [{ Effect: "Allow", NotAction: "kms:Decrypt" }] },
      /NotAction: not supported/,
    ],
    [
      { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "kms:Decript" }] },
      /unknown action "kms:Decript"/,
    ],
    [
      {
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: "kms:Decrypt", Resource: "arn:aws:s3:::b/*" }],
      },
      /Resource: "arn:aws:s3/,
    ],
    [{ Version: "2020-01-01", Statement: [{ Effect: "Allow", Action: "kms:*" }] }, /Version/],
    [{ Version: "2012-10-17", Statement: [{ Effect: "Maybe", Action: "kms:*" }] }, /Effect/],
    [{ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: [] }] }, /Action: 1 to 100/],
    [{ Version: "2012-10-17", Statement: [] }, /Statement: 1 to 100/],
  ])("refuses %j naming the place", (doc, message) => {
    expect(() => parsePolicyDocument(doc, "identities[0].policies[0]")).toThrow(message);
  });

  it("accepts one statement as an object, strings or lists, wildcards and `*` resources", () => {
    const doc = parsePolicyDocument(
      {
        Version: "2012-10-17",
        Statement: {
          Sid: "x",
          Effect: "Allow",
          Action: ["kms:Describe*", "kms:ListKeys"],
          Resource: "*",
        },
      },
      "p",
    );
    expect(doc.statements).toEqual([
      { effect: "Allow", actions: ["kms:Describe*", "kms:ListKeys"], keyPatterns: null },
    ]);
  });
});

describe("evaluatePolicies", () => {
  // Each canned policy × every action: what it allows on key app-1 (or on the service).
  const keyUser: KmsAction[] = [
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:ReEncrypt",
    "kms:DescribeKey",
  ];
  const expected: Record<string, KmsAction[]> = {
    consoleAdmin: [...KMS_ACTIONS],
    KMSKeyAdministrator: [
      "kms:CreateKey",
      "kms:DescribeKey",
      "kms:ListKeys",
      "kms:EnableKey",
      "kms:DisableKey",
      "kms:RotateKey",
      "kms:DeleteKey",
      "kms:TagResource",
      "kms:UntagResource",
      "kms:UpdateKeyDescription",
      "kms:ListResourceTags",
      "kms:CreateAlias",
      "kms:UpdateAlias",
      "kms:DeleteAlias",
      "kms:ListAliases",
      "kms:EnableKeyRotation",
      "kms:DisableKeyRotation",
      "kms:GetKeyRotationStatus",
      "kms:ListKeyRotations",
    ],
    KMSKeyUser: keyUser,
    "KMSKeyUser:app-*": keyUser,
    KMSAuditor: [
      "kms:ListKeys",
      "kms:DescribeKey",
      "kms:ReadConfig",
      "kms:ListResourceTags",
      "kms:ListAliases",
      "kms:GetKeyRotationStatus",
      "kms:ListKeyRotations",
    ],
  };
  for (const [name, allowed] of Object.entries(expected)) {
    it(`${name}: allows exactly its actions`, () => {
      for (const action of KMS_ACTIONS) {
        expect([action, allows([canned(name)], action)]).toEqual([
          action,
          allowed.includes(action),
        ]);
      }
    });
  }

  it("scopes to keys: KMSKeyUser:app-* allows app-1 and refuses other; re-encrypt needs both keys", () => {
    const user = [canned("KMSKeyUser:app-*")];
    expect(allows(user, "kms:Decrypt", ["app-1"])).toBe(true);
    expect(allows(user, "kms:Decrypt", ["other"])).toBe(false);
    expect(allows(user, "kms:ReEncrypt", ["app-1", "app-2"])).toBe(true);
    expect(allows(user, "kms:ReEncrypt", ["app-1", "other"])).toBe(false);
  });

  it("lets an explicit Deny win over kms:*, for a key or for everything", () => {
    const all = policy({ Effect: "Allow", Action: "kms:*" });
    const denyOther = policy({
      Effect: "Deny",
      Action: "kms:Decrypt",
      Resource: "arn:aws:kms:::key/other",
    });
    expect(allows([all, denyOther], "kms:Decrypt", ["other"])).toBe(false);
    expect(allows([all, denyOther], "kms:Decrypt", ["app-1"])).toBe(true);
    // A Deny scoped to keys does not touch service-level actions.
    expect(allows([all, denyOther], "kms:ListKeys")).toBe(true);
    const denyAll = policy({ Effect: "Deny", Action: "kms:*" });
    expect(evaluatePolicies([all, denyAll], "kms:ListKeys", [])).toEqual({
      allowed: false,
      reason: "explicit-deny",
    });
  });

  it("admin:ServerInfo alone allows every action; no policy allows none", () => {
    const serverInfo = policy({ Effect: "Allow", Action: "admin:ServerInfo" });
    for (const action of KMS_ACTIONS) {
      expect(allows([serverInfo], action)).toBe(true);
      expect(evaluatePolicies([], action, ["app-1"])).toEqual({
        allowed: false,
        reason: "not-allowed",
      });
    }
  });

  it("needs an unscoped Allow for service-level actions", () => {
    const scoped = policy({ Effect: "Allow", Action: "kms:*", Resource: "arn:aws:kms:::key/*" });
    expect(allows([scoped], "kms:CreateKey")).toBe(false);
    expect(allows([scoped], "kms:Decrypt", ["anything"])).toBe(true);
  });

  it("matches action names without regard to case, and wildcards in them", () => {
    const describe = policy({ Effect: "Allow", Action: "KMS:describe*" });
    expect(allows([describe], "kms:DescribeKey")).toBe(true);
    expect(allows([describe], "kms:Decrypt")).toBe(false);
  });
});

describe("readIdentitiesFile", () => {
  let dir: string;
  const secret = "s3cr3t-value-never-in-messages";
  const body = (identities: object[]) => JSON.stringify({ identities });
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "kms-identities-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  async function file(name: string, text: string, mode = 0o600): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, text);
    await chmod(path, mode);
    return path;
  }

  it("reads identities with inline and environment secrets, canned and inline policies", async () => {
    const path = await file(
      "ok.json",
      body([
        {
          access_key: "objectstore",
          secret_key: secret,
          display_name: "rustfs",
          policies: ["KMSKeyUser:bucket-*"],
        },
        {
          access_key: "ops",
          secret_key_env: "OPS_SECRET",
          policies: [
            "KMSAuditor",
            {
              Version: "2012-10-17",
              Statement: [{ Effect: "Allow", Action: "kms:ServiceControl" }],
            },
          ],
        },
      ]),
    );
    const creds = await readIdentitiesFile(path, { OPS_SECRET: "from-the-environment" });
    expect(
      creds.map((c) => [
        c.identity.accessKey,
        c.identity.name,
        c.secretKey,
        c.identity.policies?.length,
      ]),
    ).toEqual([
      ["objectstore", "rustfs", secret, 1],
      ["ops", "ops", "from-the-environment", 2],
    ]);
  });

  it("refuses a file group or others can read, saying how to fix it", async () => {
    const path = await file(
      "open.json",
      body([{ access_key: "abc", secret_key: secret, policies: ["KMSAuditor"] }]),
      0o644,
    );
    await expect(readIdentitiesFile(path, {})).rejects.toThrow(/mode 0644.*chmod 600/);
  });

  it("refuses a symbolic link and a missing file", async () => {
    const target = await file("target.json", body([]));
    const link = join(dir, "link.json");
    await symlink(target, link);
    await expect(readIdentitiesFile(link, {})).rejects.toThrow(/cannot be opened \(ELOOP\)/);
    await expect(readIdentitiesFile(join(dir, "none.json"), {})).rejects.toThrow(/ENOENT/);
  });

  it.each([
    ["invalid JSON", `{"identities": [{"secret_key": "${secret}"`, /not valid JSON/],
    [
      "a duplicate access key",
      body([
        { access_key: "dup", secret_key: secret, policies: ["KMSAuditor"] },
        { access_key: "dup", secret_key: secret, policies: ["KMSAuditor"] },
      ]),
      /identities\[1\]\.access_key: "dup" appears twice/,
    ],
    [
      "an unknown canned policy",
      body([{ access_key: "abc", secret_key: secret, policies: ["Everything"] }]),
      /unknown canned policy "Everything"/,
    ],
    [
      "a scope on an unscopable canned policy",
      body([{ access_key: "abc", secret_key: secret, policies: ["consoleAdmin:x*"] }]),
      /unknown canned policy/,
    ],
    [
      "both secret forms",
      body([
        { access_key: "abc", secret_key: secret, secret_key_env: "X", policies: ["KMSAuditor"] },
      ]),
      /exactly one of secret_key and secret_key_env/,
    ],
    [
      "a missing environment secret",
      body([{ access_key: "abc", secret_key_env: "NOT_SET_ANYWHERE", policies: ["KMSAuditor"] }]),
      /NOT_SET_ANYWHERE must hold/,
    ],
    [
      "no policies",
      body([{ access_key: "abc", secret_key: secret, policies: [] }]),
      /1 to 20 policies/,
    ],
    [
      "an unknown field",
      body([{ access_key: "abc", secret_key: secret, policies: ["KMSAuditor"], admin: true }]),
      /\.admin: unknown field/,
    ],
  ])("refuses %s, naming the place and never the secret", async (_, text, message) => {
    const path = await file("bad.json", text);
    const error = await readIdentitiesFile(path, {}).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toMatch(message);
    expect(error?.message).not.toContain(secret);
  });
});
