// The AWS JSON 1.1 adapter's public surface, for the server's composition root.

export type { AwsJsonAdapter, AwsJsonAdapterOptions, AwsJsonRequest } from "./aws-json-adapter.js";
export { AWS_JSON_CONTENT_TYPE, createAwsJsonAdapter } from "./aws-json-adapter.js";
export { awsJsonError } from "./aws-json-error.js";
export { signingRegionOf } from "./signing-region.js";
