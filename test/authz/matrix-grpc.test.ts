import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { beforeAll, describe, expect, it } from "vitest";
import { KmsAdminService } from "../../gen/kms/admin/v1/service_pb.js";
import { sigv4Interceptor } from "../helpers/sigv4-headers.js";
import {
  credentialsOf,
  EXPECTED_ALLOWED,
  FAIL_LATER,
  rootCall,
  rpcCases,
  useSeededAuthzGateway,
} from "./authz-fixture.js";

// Issue 9's matrix over gRPC (h2c): the same identities, RPCs and expectations
// as over REST, PermissionDenied where REST answers 403.

const { gw, seeded } = useSeededAuthzGateway();

describe("the authorization matrix over gRPC", () => {
  let cases: ReturnType<typeof rpcCases>;
  beforeAll(() => {
    cases = rpcCases(seeded());
  });

  it.each(Object.keys(EXPECTED_ALLOWED))(
    "%s: every RPC allowed or denied as expected",
    async (who) => {
      const client = createClient(
        KmsAdminService,
        createGrpcTransport({
          baseUrl: gw.url,
          interceptors: [sigv4Interceptor(credentialsOf(who))],
        }),
      );
      const got: Record<string, string> = {};
      const want: Record<string, string> = {};
      for (const c of cases) {
        let error: ConnectError | undefined;
        try {
          const call = client[c.method] as (req: object) => Promise<unknown>;
          await call(c.request);
        } catch (err) {
          error = ConnectError.from(err);
        }
        expect(error?.code, `${who} ${c.method}: ${error?.message}`).not.toBe(Code.Unauthenticated);
        got[c.method] = error?.code === Code.PermissionDenied ? "denied" : "allowed";
        want[c.method] = EXPECTED_ALLOWED[who]?.has(c.method) ? "allowed" : "denied";
        if (got[c.method] === "allowed" && !FAIL_LATER.has(c.method)) {
          expect(error, `${who} ${c.method}`).toBeUndefined();
        }
        if (error?.code === Code.PermissionDenied) {
          expect(error.rawMessage).toBe(
            "access denied: the identity lacks permission for this call",
          );
        }
      }
      expect(got).toEqual(want);
      await rootCall(gw, "POST", "/rustfs/admin/v3/kms/start", {}).catch(() => undefined);
      expect((await rootCall(gw, "GET", "/rustfs/admin/v3/kms/status")).status).toBe("Running");
    },
  );
});
