import { Code, ConnectError } from "@connectrpc/connect";

/**
 * EXIT is what the client commands exit with, so scripts can tell failures apart:
 * 0 done; 1 a server fault or anything unforeseen; 2 a usage error (bad flags,
 * unreadable file); 3 refused authentication or permission; 4 no such key; 5 the
 * KMS refused the request as made (invalid input, a key state that forbids it, an
 * existing key); 6 the gateway or its KMS is unavailable (unreachable, not running).
 */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  auth: 3,
  notFound: 4,
  refused: 5,
  unavailable: 6,
} as const;

/** UsageError is a mistake in how the command was called; it exits 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** exitCodeFor maps what a command failed with to its exit code. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError) return EXIT.usage;
  if (!(error instanceof ConnectError)) return EXIT.failure;
  switch (error.code) {
    case Code.Unauthenticated:
    case Code.PermissionDenied:
      return EXIT.auth;
    case Code.NotFound:
      return EXIT.notFound;
    case Code.InvalidArgument:
    case Code.FailedPrecondition:
    case Code.AlreadyExists:
    case Code.OutOfRange:
      return EXIT.refused;
    case Code.Unavailable:
    case Code.DeadlineExceeded:
      return EXIT.unavailable;
    default:
      return EXIT.failure;
  }
}
