import type { AuthenticatedCaller } from "../../src/service/caller.js";

/** rootCaller is an authenticated caller that may do everything, for tests that call the service directly. */
export function rootCaller(): AuthenticatedCaller {
  return {
    authenticated: true,
    name: "root",
    accessKey: "rustfsadmin",
    requestId: "test",
    source: null,
    allows: () => true,
    mayEver: () => true,
  };
}
