import type { KeyState } from "./types.js";

/**
 * KmsErrorCode is the closed set of reasons an engine call can fail. Each code
 * has exactly one meaning to callers; the service layer maps each to one
 * Connect code and the REST layer to one HTTP status (contract §4).
 */
export type KmsErrorCode =
  /** Malformed or out-of-range input: bad key id, window outside 7–30, unknown key_spec… (400) */
  | "INVALID_ARGUMENT"
  /** A ciphertext that is tampered, truncated, or used with another encryption context (400). */
  | "INVALID_CIPHERTEXT"
  /** The key id is unknown or its material was destroyed (404). */
  | "KEY_NOT_FOUND"
  /** A key with that id already exists (409, AlreadyExists). */
  | "KEY_EXISTS"
  /** The service is running and the call needs it not to be: configure, start (409). */
  | "ALREADY_RUNNING"
  /** Nothing is configured and the call needs a configuration: reconfigure, start (409). */
  | "NOT_CONFIGURED"
  /** The key's state forbids the operation: disabled, pending deletion, not pending deletion (409). */
  | "INVALID_KEY_STATE"
  /**
   * The configuration cannot work with what it points at, and only its author
   * can fix that: a master key that does not open the keys in key_dir, a
   * key_dir another process holds (409).
   */
  | "CONFIG_CONFLICT"
  /** A key operation while the service is not running (503). */
  | "NOT_RUNNING"
  /** The backend failed: I/O error, Vault denied, wrong master key (500). */
  | "BACKEND_ERROR"
  /** A remote backend (Vault) cannot be reached, or is failing and not retried for now (503). */
  | "BACKEND_UNAVAILABLE";

/**
 * KmsError is the engine's only error type. `message` is safe to show a caller:
 * it never holds secrets, key material or a backend's raw response. The real
 * underlying error, if any, is kept in `cause` for the server's log only.
 */
export class KmsError extends Error {
  override readonly name = "KmsError";

  /**
   * For INVALID_KEY_STATE, the state of the key that refused the operation, so
   * a protocol that names states apart (AWS's DisabledException and
   * KMSInvalidStateException) need not parse the message.
   */
  readonly keyState?: KeyState;

  constructor(
    readonly code: KmsErrorCode,
    message: string,
    options?: { cause?: unknown; keyState?: KeyState },
  ) {
    super(message, options);
    if (options?.keyState !== undefined) this.keyState = options.keyState;
  }
}

/** isKmsError tells whether a value is a KmsError, optionally with the given code. */
export function isKmsError(value: unknown, code?: KmsErrorCode): value is KmsError {
  return value instanceof KmsError && (code === undefined || value.code === code);
}
