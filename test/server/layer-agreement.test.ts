import { describe, expect, it } from "vitest";
import type { KmsErrorCode } from "../../src/engine/errors.js";
import { KmsError } from "../../src/engine/errors.js";
import { restErrorCodeHeader, restErrorCodes } from "../../src/rest/index.js";
import { connectErrorFromKms, errorCodeHeader } from "../../src/service/connect-error-from-kms.js";

// The service and REST layers may not import each other (docs/architecture.md),
// so they agree on the `kms-error-code` metadata by name only. The composition
// root's test holds them to it: a drift would silently turn a documented REST
// code into one derived from the Connect code.

// A Record, so that tsc fails here when a KmsErrorCode is added.
const everyKmsCode: Record<KmsErrorCode, true> = {
  INVALID_ARGUMENT: true,
  INVALID_CIPHERTEXT: true,
  KEY_NOT_FOUND: true,
  KEY_EXISTS: true,
  ALREADY_RUNNING: true,
  NOT_CONFIGURED: true,
  INVALID_KEY_STATE: true,
  CONFIG_CONFLICT: true,
  NOT_RUNNING: true,
  BACKEND_ERROR: true,
  BACKEND_UNAVAILABLE: true,
};
const kmsCodes = Object.keys(everyKmsCode) as KmsErrorCode[];

describe("the service and REST layers", () => {
  it("name the error-code metadata alike", () => {
    expect(errorCodeHeader).toBe(restErrorCodeHeader);
  });

  it.each(kmsCodes)("map %s to a REST code the REST layer accepts", (code) => {
    const restCode = connectErrorFromKms(new KmsError(code, "m")).metadata.get(errorCodeHeader);
    expect(restErrorCodes).toContain(restCode);
  });
});
