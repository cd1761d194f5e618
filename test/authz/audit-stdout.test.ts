import { describe, expect, it } from "vitest";
import { useGateway } from "../helpers/gateway-process.js";
import { signedFetch } from "../helpers/signed-fetch.js";

// `--audit-log -`: the audit lines go to stdout (the log stays on stderr).

const stdout: string[] = [];
const gw = useGateway({
  spawn: () => ({ args: ["--audit-log", "-"] }),
  seed: async (g) => {
    g.child.stdout?.setEncoding("utf8").on("data", (chunk: string) => stdout.push(chunk));
  },
});

describe("--audit-log -", () => {
  it("writes one audit line per audited call to stdout, none to the log", async () => {
    const made = await signedFetch(gw.url, "POST", "/rustfs/admin/v3/kms/keys", {
      body: "{}",
      headers: { "x-request-id": "stdout-create" },
    });
    expect(made.status).toBe(200);
    // The line left before the answer did; give the pipe a moment to deliver it here.
    for (let i = 0; i < 50 && !stdout.join("").includes("stdout-create"); i++) {
      await new Promise((r) => setTimeout(r, 40));
    }
    const lines = stdout
      .join("")
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((l) => l.requestId === "stdout-create")).toEqual([
      expect.objectContaining({ type: "audit", action: "kms:CreateKey", outcome: "allowed" }),
    ]);
    expect(gw.logLines.some((l) => l.includes('"type":"audit"'))).toBe(false);
  });
});
