import { KMSServiceException } from "@aws-sdk/client-kms";
import { expect } from "vitest";

/**
 * expectAwsError awaits a call that must fail and checks that AWS's client raised
 * the exception named: a typed class of @aws-sdk/client-kms when the KMS model has
 * one (NotFoundException…), else KMSServiceException with that name
 * (ValidationException). It returns the error for further checks.
 */
export async function expectAwsError(
  call: Promise<unknown>,
  expected: string | (abstract new (...args: never[]) => KMSServiceException),
): Promise<KMSServiceException> {
  const err = await call.then(
    () => {
      throw new Error(`expected ${typeof expected === "string" ? expected : expected.name}`);
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(KMSServiceException);
  const error = err as KMSServiceException;
  if (typeof expected === "string") {
    expect(error.name).toBe(expected);
  } else {
    expect(error, `${error.name}: ${error.message}`).toBeInstanceOf(expected);
  }
  return error;
}
