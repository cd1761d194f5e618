import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { AuditEntry, AuditSink } from "./audit-sink.js";
import type { AuthenticatedCaller, Caller } from "./caller.js";
import { connectErrorFromKms, errorCodeHeader } from "./connect-error-from-kms.js";
import { methodActionsOf } from "./method-actions.js";

/**
 * UNAUDITED_METHODS read and change nothing and touch no key material: every other
 * RPC leaves one audit line per call, allowed, denied or failed (issue 9 item 7).
 */
export const UNAUDITED_METHODS: ReadonlySet<string> = new Set([
  "GetStatus",
  "GetConfig",
  "ListKeys",
  "DescribeKey",
]);

/** PERMISSION_DENIED_MESSAGE is the one answer of every refused call: it says nothing of keys or input. */
export const PERMISSION_DENIED_MESSAGE =
  "access denied: the identity lacks permission for this call";

/** AUDIT_FAILED_MESSAGE answers a call that could not be recorded (fail closed). */
export const AUDIT_FAILED_MESSAGE =
  "internal error: the call could not be recorded in the audit trail";

/** AuthorizerLog receives failures of the audit trail, which clients never see in detail. */
export type AuthorizerLog = (
  level: "error",
  message: string,
  fields: { method: string; cause: unknown },
) => void;

/** CallAuthorizerOptions configure createCallAuthorizer. */
export interface CallAuthorizerOptions {
  /** The action of each RPC, from methodActionsOf. */
  actions: ReadonlyMap<DescMethod, string>;
  /** Where audit lines go; none keeps no trail. */
  audit?: AuditSink;
  /** Answer a call whose audit line cannot be written anyway (logged) instead of failing it with 500. */
  auditFailOpen?: boolean;
  log?: AuthorizerLog;
}

/** CallFacts are what an audit line says about a call beyond who made it. */
export interface CallFacts {
  /** The keys the call touches, as authorization checks them. */
  keyIds: readonly string[];
  encryptionContext?: Readonly<Record<string, string>>;
  destinationEncryptionContext?: Readonly<Record<string, string>>;
}

/** ResultFacts are what an audit line says that only the result of a call knows. */
export interface ResultFacts {
  keyVersion?: number | null;
  /** The keys of the result, when the request could not name them (CreateKey). */
  keyIds?: readonly string[];
}

/**
 * CallAuthorizer is the one place every call of KmsAdminService is authorized
 * and audited, whatever its protocol: the edge (RPC) and the REST transcoder call
 * `screen` before they read or decode the request, and every handler runs its
 * engine call through `run`, which checks the keys the parsed request names.
 * The order is authenticate → authorize → validate: a refused caller gets the
 * same PermissionDenied (403) for an existing key, a missing key or a malformed body.
 */
export interface CallAuthorizer {
  /**
   * screen refuses, before the request is read, a caller who is not authenticated,
   * or who holds no permission that could allow the method's action on any key.
   */
  screen(caller: Caller, method: DescMethod): Promise<void>;
  /**
   * run authorizes the call on `facts.keyIds`, runs `op`, and writes the call's
   * audit line (for audited methods); `outcomeOf` names what only the result knows
   * (the key version used, the id of a key just created).
   */
  run<T>(
    caller: Caller,
    method: DescMethod,
    facts: CallFacts,
    op: () => Promise<T>,
    outcomeOf?: (result: T) => ResultFacts,
  ): Promise<T>;
}

/** createCallAuthorizer returns the authorizer of one service. */
export function createCallAuthorizer(options: CallAuthorizerOptions): CallAuthorizer {
  const { actions, audit } = options;

  function actionOf(method: DescMethod): string {
    const name = actions.get(method);
    // Unreachable with a table built from the same service; refusing keeps a
    // method without an action from ever being allowed.
    if (name === undefined) throw denied();
    return name;
  }

  function authenticated(caller: Caller): AuthenticatedCaller {
    if (!caller.authenticated) {
      throw new ConnectError(caller.reason, Code.Unauthenticated, {
        [errorCodeHeader]: "AccessDenied",
      });
    }
    return caller;
  }

  /** audited tells whether a call of `method` leaves an audit line. */
  function audited(method: DescMethod): boolean {
    return audit !== undefined && !UNAUDITED_METHODS.has(method.name);
  }

  /** record writes one audit line; a failure fails the call unless failOpen (or `safe`: the call was refused anyway). */
  async function record(method: DescMethod, entry: AuditEntry, safe: boolean): Promise<void> {
    if (audit === undefined || !audited(method)) return;
    try {
      await audit(entry);
    } catch (cause) {
      options.log?.("error", "audit line not written", { method: method.name, cause });
      if (!safe && options.auditFailOpen !== true) {
        throw new ConnectError(AUDIT_FAILED_MESSAGE, Code.Internal, {
          [errorCodeHeader]: "InternalError",
        });
      }
    }
  }

  function entryOf(
    caller: AuthenticatedCaller,
    method: DescMethod,
    facts: CallFacts,
    outcome: AuditEntry["outcome"],
    errorCode: string | null,
    keyVersion: number | null,
  ): AuditEntry {
    return {
      requestId: caller.requestId,
      identity: caller.accessKey,
      source: caller.source,
      action: actionOf(method),
      method: method.name,
      keyIds: facts.keyIds,
      keyVersion,
      outcome,
      errorCode,
      encryptionContext: facts.encryptionContext ?? null,
      destinationEncryptionContext: facts.destinationEncryptionContext ?? null,
    };
  }

  return {
    async screen(caller, method) {
      const who = authenticated(caller);
      if (who.mayEver(actionOf(method))) return;
      await record(
        method,
        entryOf(who, method, { keyIds: [] }, "denied", "PermissionDenied", null),
        true,
      );
      throw denied();
    },
    async run<T>(
      caller: Caller,
      method: DescMethod,
      facts: CallFacts,
      op: () => Promise<T>,
      outcomeOf?: (result: T) => ResultFacts,
    ): Promise<T> {
      const who = authenticated(caller);
      if (!who.allows(actionOf(method), facts.keyIds)) {
        await record(method, entryOf(who, method, facts, "denied", "PermissionDenied", null), true);
        throw denied();
      }
      let result: T;
      try {
        result = await op();
      } catch (err) {
        const error = connectErrorFromKms(err);
        await record(method, entryOf(who, method, facts, "failed", Code[error.code], null), false);
        throw error;
      }
      // Only an audit line needs the outcome (e.g. the key version read back from
      // the ciphertext): without one, the hot path does not pay for it.
      if (!audited(method)) return result;
      const known = outcomeOf?.(result);
      const done = known?.keyIds === undefined ? facts : { ...facts, keyIds: known.keyIds };
      await record(
        method,
        entryOf(who, method, done, "allowed", null, known?.keyVersion ?? null),
        false,
      );
      return result;
    },
  };
}

function denied(): ConnectError {
  return new ConnectError(PERMISSION_DENIED_MESSAGE, Code.PermissionDenied, {
    [errorCodeHeader]: "AccessDenied",
  });
}

/**
 * defaultAuthorizerOf is the authorizer a service builds for itself when the
 * gateway gives it none (tests, embedding): its own table, unaudited. The
 * gateway builds one for all services, with the policy language's own check.
 */
export function defaultAuthorizerOf(service: DescService): CallAuthorizer {
  return createCallAuthorizer({
    actions: methodActionsOf(service, (name) => /^kms:[A-Za-z]+$/.test(name)),
  });
}
