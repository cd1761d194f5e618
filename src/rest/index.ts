// The REST transcoder's public surface, for the server's composition root.

export type { Cors } from "./cors.js";
export { createCors, parseCorsOrigin } from "./cors.js";
export { restErrorCodeHeader, restErrorCodes } from "./error-body.js";
export { createLegacyRoutes } from "./legacy-routes.js";
export type {
  RestRequest,
  RestResponse,
  RestTranscoder,
  RestTranscoderOptions,
} from "./rest-transcoder.js";
export { createRestTranscoder, restErrorResponse } from "./rest-transcoder.js";
