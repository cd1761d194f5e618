// The REST transcoder's public surface, for the server's composition root.
export type { CompiledRoute, RequestBodyRule, RouteVariable } from "./compile-routes.js";
export { compileRoutes, compileRule } from "./compile-routes.js";
export type { RestErrorBody, RestErrorCode } from "./error-body.js";
export {
  errorBody,
  restErrorCodeFromCode,
  restErrorCodeHeader,
  restErrorCodes,
} from "./error-body.js";
export { httpStatusFromCode } from "./http-status.js";
export { writeRestJson } from "./json-writer.js";
export type {
  RestRequest,
  RestResponse,
  RestTranscoder,
  RestTranscoderOptions,
} from "./rest-transcoder.js";
export { createRestTranscoder, restErrorResponse } from "./rest-transcoder.js";
