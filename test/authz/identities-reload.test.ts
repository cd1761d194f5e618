import { chmodSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { newDataDir, runGatewayUntilExit, useGateway } from "../helpers/gateway-process.js";
import { signedFetch } from "../helpers/signed-fetch.js";
import { credentialsOf, identitiesJson, writeIdentitiesFile } from "./authz-fixture.js";

// Issue 9 item 1: the identities file is reloaded on change and on SIGHUP,
// atomically; a bad file is refused and the old identities stay in force; a
// file that group or others can read refuses start-up.

const P = "/rustfs/admin/v3/kms";
const path = writeIdentitiesFile(identitiesJson({ alpha: ["KMSAuditor"] }));
const gw = useGateway({ spawn: () => ({ args: ["--identities", path] }) });

/** replaceFile writes a new version beside the file and renames it over, as editors and deploy tools do. */
function replaceFile(text: string, mode = 0o600): void {
  const next = join(dirname(path), "next.json");
  writeFileSync(next, text, { mode });
  chmodSync(next, mode);
  renameSync(next, path);
}

const listAs = async (who: string) =>
  (await signedFetch(gw.url, "GET", `${P}/keys`, { credentials: credentialsOf(who) })).status;

/** eventually polls `check` until it is true (file events take a moment), for at most 10 s. */
async function eventually(check: () => Promise<boolean> | boolean): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("condition not met within 10 s");
}

describe("reloading the identities file", () => {
  it("a new file takes effect without a restart", async () => {
    expect(await listAs("alpha")).toBe(200);
    expect(await listAs("beta")).toBe(401);
    replaceFile(identitiesJson({ beta: ["KMSAuditor"] }));
    await eventually(async () => (await listAs("beta")) === 200);
    expect(await listAs("alpha")).toBe(401);
  });

  it("a malformed file is refused with a log line and the old identities stay", async () => {
    const before = gw.logLines.length;
    replaceFile('{"identities": [ {"access_key": "gamma", ');
    await eventually(() =>
      gw.logLines.slice(before).some((l) => l.includes("identities file refused")),
    );
    expect(await listAs("beta")).toBe(200);
    // An invalid policy is refused the same way (the whole file, not the rest of it).
    const mark = gw.logLines.length;
    replaceFile(
      identitiesJson({
        beta: ["KMSAuditor"],
        gamma: [{ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "kms:Nope" }] }],
      }),
    );
    await eventually(() =>
      gw.logLines.slice(mark).some((l) => l.includes("identities file refused")),
    );
    expect(await listAs("beta")).toBe(200);
    expect(await listAs("gamma")).toBe(401);
  });

  it("a file that others may read is refused on reload, and nothing of it is logged", async () => {
    const mark = gw.logLines.length;
    replaceFile(identitiesJson({ delta: ["KMSAuditor"] }), 0o644);
    await eventually(() => gw.logLines.slice(mark).some((l) => l.includes("chmod 600")));
    expect(await listAs("delta")).toBe(401);
    expect(await listAs("beta")).toBe(200);
    expect(gw.logLines.join("\n")).not.toContain(credentialsOf("delta").secretAccessKey);
  });

  it("SIGHUP reloads the file", async () => {
    replaceFile(identitiesJson({ epsilon: ["KMSAuditor"] }));
    await eventually(async () => (await listAs("epsilon")) === 200);
    const mark = gw.logLines.length;
    gw.child.kill("SIGHUP");
    await eventually(() =>
      gw.logLines
        .slice(mark)
        .some((l) => l.includes("identities reloaded") && l.includes("SIGHUP")),
    );
    expect(await listAs("epsilon")).toBe(200);
  });
});

describe("starting with an identities file", () => {
  it.each([0o644, 0o640, 0o604])("refuses to start when the file has mode %o", async (mode) => {
    const file = writeIdentitiesFile(identitiesJson({ alpha: ["KMSAuditor"] }), mode);
    const exit = await runGatewayUntilExit({ dataDir: newDataDir(), args: ["--identities", file] });
    expect(exit.code).toBe(1);
    expect(exit.logLines.join("\n")).toContain("chmod 600");
    expect(exit.logLines.join("\n")).not.toContain(credentialsOf("alpha").secretAccessKey);
  });

  it("refuses to start on a malformed file, naming the place and no secret", async () => {
    const file = writeIdentitiesFile(
      JSON.stringify({
        identities: [
          { access_key: "alpha", secret_key: "alpha-secret-0123", policies: ["NoSuchPolicy"] },
        ],
      }),
    );
    const exit = await runGatewayUntilExit({ dataDir: newDataDir(), args: ["--identities", file] });
    expect(exit.code).toBe(1);
    const log = exit.logLines.join("\n");
    expect(log).toContain("identities[0].policies[0]");
    expect(log).not.toContain("alpha-secret-0123");
  });
});
