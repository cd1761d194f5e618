// The REST transcoder's public surface, for the server's composition root.
export { restErrorCodeHeader, restErrorCodes } from "./error-body.js";
export type {
  RestRequest,
  RestResponse,
  RestTranscoder,
  RestTranscoderOptions,
} from "./rest-transcoder.js";
export { createRestTranscoder, restErrorResponse } from "./rest-transcoder.js";
