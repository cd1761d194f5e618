import { expect } from "vitest";
import { isKmsError, type KmsError, type KmsErrorCode } from "../../src/engine/errors.js";

/**
 * expectKmsError asserts that `promise` rejects with a KmsError of `code`
 * (and a message matching `message`, if given), and returns that error.
 */
export async function expectKmsError(
  promise: Promise<unknown>,
  code: KmsErrorCode,
  message?: string | RegExp,
): Promise<KmsError> {
  let outcome: { ok: true } | { ok: false; error: unknown };
  try {
    await promise;
    outcome = { ok: true };
  } catch (error) {
    outcome = { ok: false, error };
  }
  if (outcome.ok) throw new Error(`expected a rejection with ${code}`);
  const { error } = outcome;
  expect(isKmsError(error), `expected a KmsError, got ${String(error)}`).toBe(true);
  expect((error as KmsError).code).toBe(code);
  if (message !== undefined) expect((error as KmsError).message).toMatch(message);
  return error as KmsError;
}
