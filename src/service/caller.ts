import { createContextKey } from "@connectrpc/connect";

/**
 * Caller is who is calling, as the HTTP edge established it from the
 * request's SigV4 signature. The service layer knows nothing of SigV4: it only
 * reads this value, so every protocol is authenticated by the same edge.
 */
export type Caller =
  | { authenticated: true; name: string }
  | { authenticated: false; reason: string };

/**
 * callerKey carries the Caller from the edge to the handlers. Its default is
 * an unauthenticated caller, so a request that bypassed the edge is refused.
 */
export const callerKey = createContextKey<Caller>(
  { authenticated: false, reason: "authentication required" },
  { description: "the caller established by SigV4 verification" },
);
