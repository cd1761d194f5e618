import { beforeAll, describe, expect, it } from "vitest";
import { KmsAdminService } from "../../gen/kms/admin/v1/service_pb.js";
import { signedFetch } from "../helpers/signed-fetch.js";
import {
  credentialsOf,
  EXPECTED_ALLOWED,
  FAIL_LATER,
  rootCall,
  rpcCases,
  useSeededAuthzGateway,
} from "./authz-fixture.js";

// Issue 9's matrix over REST: each test identity (one per canned policy, and the
// special cases) × every RPC, allowed or denied as written out by hand.

const { gw, seeded } = useSeededAuthzGateway();

describe("the authorization matrix over REST", () => {
  let cases: ReturnType<typeof rpcCases>;
  beforeAll(() => {
    cases = rpcCases(seeded());
  });

  it("has one case for every RPC of the service", () => {
    expect(cases.map((c) => c.method).sort()).toEqual(Object.keys(KmsAdminService.method).sort());
  });

  it.each(Object.keys(EXPECTED_ALLOWED))(
    "%s: every RPC allowed or denied as expected",
    async (who) => {
      const got: Record<string, string> = {};
      const want: Record<string, string> = {};
      for (const c of cases) {
        const answer = await signedFetch(gw.url, c.rest.method, c.rest.path, {
          body: c.rest.body,
          credentials: credentialsOf(who),
        });
        expect(answer.status, `${who} ${c.method}: ${answer.text}`).not.toBe(401);
        got[c.method] = answer.status === 403 ? "denied" : "allowed";
        want[c.method] = EXPECTED_ALLOWED[who]?.has(c.method) ? "allowed" : "denied";
        // An allowed call really runs: these succeed; the rest fail later for their input
        // or the service state (configure while running: 409; a short master key: 400).
        if (got[c.method] === "allowed" && !FAIL_LATER.has(c.method)) {
          expect(answer.status, `${who} ${c.method}: ${answer.text}`).toBeLessThan(300);
        }
        if (answer.status === 403) {
          expect(answer.json).toEqual({
            code: "AccessDenied",
            message: "access denied: the identity lacks permission for this call",
          });
        }
      }
      expect(got).toEqual(want);
      // StopService came last: start again for the next identity.
      await signedFetch(gw.url, "POST", "/rustfs/admin/v3/kms/start", { body: "{}" });
      expect((await rootCall(gw, "GET", "/rustfs/admin/v3/kms/status")).status).toBe("Running");
    },
  );
});
