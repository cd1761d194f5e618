import { describe, expect, it } from "vitest";
import { parseCliOptions } from "../src/cli-options.js";

describe("parseCliOptions: edge limits", () => {
  it("defaults to a 30 s body deadline and a 16 MiB pre-auth budget", () => {
    expect(parseCliOptions([], {})).toMatchObject({
      bodyTimeoutMs: 30_000,
      preauthBodyBudget: 16 * 1024 * 1024,
    });
  });

  it("reads the environment, and flags win", () => {
    const env = { KMS_GATEWAY_BODY_TIMEOUT_MS: "5000", KMS_GATEWAY_PREAUTH_BODY_BUDGET: "1024" };
    expect(parseCliOptions([], env)).toMatchObject({
      bodyTimeoutMs: 5000,
      preauthBodyBudget: 1024,
    });
    expect(
      parseCliOptions(["--body-timeout-ms", "250", "--preauth-body-budget", "0"], env),
    ).toMatchObject({ bodyTimeoutMs: 250, preauthBodyBudget: 0 });
  });

  it.each([
    [["--body-timeout-ms", "0"], /--body-timeout-ms/],
    [["--body-timeout-ms", "1e3"], /--body-timeout-ms/],
    [["--preauth-body-budget", "-1"], /--preauth-body-budget/],
    [["--preauth-body-budget", "0x10"], /--preauth-body-budget/],
  ])("refuses %j", (argv, message) => {
    expect(() => parseCliOptions(argv, {})).toThrow(message);
  });
});
