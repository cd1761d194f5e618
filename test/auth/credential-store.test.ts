import { describe, expect, it } from "vitest";
import {
  createStaticCredentialStore,
  rootCredentialsFromEnv,
} from "../../src/auth/credential-store.js";
import { createRootIdentity, type Identity } from "../../src/auth/identity.js";

describe("createStaticCredentialStore", () => {
  const alice: Identity = { name: "alice", accessKey: "alice-key", root: false };
  const store = createStaticCredentialStore([
    { identity: createRootIdentity("root-key"), secretKey: "root-secret" },
    { identity: alice, secretKey: "alice-secret" },
  ]);

  it("looks up secrets and identities by access key", () => {
    expect(store.lookup("root-key")).toEqual({
      secretKey: "root-secret",
      identity: { name: "root", accessKey: "root-key", root: true },
    });
    expect(store.lookup("alice-key")?.identity).toBe(alice);
  });

  it("returns undefined for unknown keys, including near misses", () => {
    expect(store.lookup("nobody")).toBeUndefined();
    expect(store.lookup("ROOT-KEY")).toBeUndefined();
    expect(store.lookup("")).toBeUndefined();
  });

  it("rejects duplicate and empty credentials", () => {
    expect(() =>
      createStaticCredentialStore([
        { identity: alice, secretKey: "a" },
        { identity: alice, secretKey: "b" },
      ]),
    ).toThrow(/duplicate access key/);
    expect(() => createStaticCredentialStore([{ identity: alice, secretKey: "" }])).toThrow(
      /must not be empty/,
    );
  });
});

describe("rootCredentialsFromEnv", () => {
  it("uses RUSTFS_ACCESS_KEY and RUSTFS_SECRET_KEY", () => {
    expect(
      rootCredentialsFromEnv({ RUSTFS_ACCESS_KEY: "admin", RUSTFS_SECRET_KEY: "s3cr3t-value" }),
    ).toEqual({ accessKey: "admin", secretKey: "s3cr3t-value", isDefault: false });
  });

  it("falls back to rustfsadmin and says so", () => {
    expect(rootCredentialsFromEnv({})).toEqual({
      accessKey: "rustfsadmin",
      secretKey: "rustfsadmin",
      isDefault: true,
    });
    expect(rootCredentialsFromEnv({ RUSTFS_ACCESS_KEY: "admin", RUSTFS_SECRET_KEY: "" })).toEqual({
      accessKey: "admin",
      secretKey: "rustfsadmin",
      isDefault: true,
    });
  });
});
