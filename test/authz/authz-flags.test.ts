import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { cliUsage, parseCliOptions } from "../../src/cli-options.js";

describe("the authorization flags", () => {
  it("are off by default", () => {
    expect(parseCliOptions([], {}).authz).toEqual({
      identitiesFile: null,
      auditLog: null,
      auditFailOpen: false,
      rejectReplays: false,
    });
  });

  it("come from flags, or from the environment", () => {
    const flags = parseCliOptions(
      ["--identities", "ids.json", "--audit-log", "-", "--audit-fail-open", "--reject-replays"],
      {},
    );
    expect(flags.authz).toEqual({
      identitiesFile: resolve("ids.json"),
      auditLog: "-",
      auditFailOpen: true,
      rejectReplays: true,
    });
    const env = parseCliOptions([], {
      KMS_GATEWAY_IDENTITIES: "/etc/kms/ids.json",
      KMS_GATEWAY_AUDIT_LOG: "audit.log",
      KMS_GATEWAY_AUDIT_FAIL_OPEN: "1",
      KMS_GATEWAY_REJECT_REPLAYS: "1",
    });
    expect(env.authz).toEqual({
      identitiesFile: "/etc/kms/ids.json",
      auditLog: resolve("audit.log"),
      auditFailOpen: true,
      rejectReplays: true,
    });
  });

  it("are in --help", () => {
    for (const flag of ["--identities", "--audit-log", "--audit-fail-open", "--reject-replays"]) {
      expect(cliUsage).toContain(flag);
    }
  });
});
