import { createContextKey } from "@connectrpc/connect";

/**
 * Caller is who is calling, as the HTTP edge established it from the
 * request's SigV4 signature. The service layer knows nothing of SigV4 or of
 * policies: it only reads this value, so every protocol is authenticated and
 * authorized alike.
 */
export type Caller = AuthenticatedCaller | { authenticated: false; reason: string };

/** AuthenticatedCaller is a caller whose signature held, with what it may do. */
export interface AuthenticatedCaller {
  authenticated: true;
  /** A display name for logs; never a secret. */
  name: string;
  /** The access key the request was signed with (the audit trail's identity). */
  accessKey: string;
  /** The request id the edge gave the request (its `x-request-id`). */
  requestId: string;
  /** The client's address, when known. */
  source: string | null;
  /** allows tells whether the caller may perform `action` on every key of `keyIds` (none for a service-level action). */
  allows(action: string, keyIds: readonly string[]): boolean;
  /** mayEver tells whether some call of `action` could be allowed, before its keys are known. */
  mayEver(action: string): boolean;
}

/**
 * callerKey carries the Caller from the edge to the handlers. Its default is
 * an unauthenticated caller, so a request that bypassed the edge is refused.
 */
export const callerKey = createContextKey<Caller>(
  { authenticated: false, reason: "authentication required" },
  { description: "the caller established by SigV4 verification" },
);
