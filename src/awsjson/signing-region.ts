/** The credential scope of an AWS4-HMAC-SHA256 Authorization header: `Credential=<key>/<date>/<region>/`. */
const SCOPE_REGION = /Credential=[^/,\s]+\/\d{8}\/([a-z0-9-]{1,64})\//;

/**
 * signingRegionOf reads the region of a request's SigV4 credential scope from its
 * Authorization header, or undefined. It runs only after the edge has verified that
 * very signature, so it parses nothing the verifier has not already accepted.
 */
export function signingRegionOf(authorization: string | string[] | undefined): string | undefined {
  if (typeof authorization !== "string") return undefined;
  return SCOPE_REGION.exec(authorization)?.[1];
}
