import { seedJson } from "../../test/helpers/seed-examples.js";

/**
 * documentedExamples are the JSON examples of the documented API (the seed document the
 * tests also send verbatim), by RPC: the request body and the 200 answer.
 */
export function documentedExamples(): Record<string, { request?: unknown; response?: unknown }> {
  return {
    Configure: { request: seedJson("configureRequest"), response: seedJson("configureResponse") },
    StartService: { response: seedJson("startResponse") },
    StopService: { response: seedJson("stopResponse") },
    GetStatus: { response: seedJson("statusResponse") },
    GetConfig: { response: seedJson("configResponse") },
    CreateKey: { request: seedJson("createKeyRequest"), response: seedJson("createKeyResponse") },
    ListKeys: { response: seedJson("listKeysResponse") },
    DescribeKey: { response: seedJson("describeKeyResponse") },
    ScheduleKeyDeletion: { request: seedJson("deleteKeyRequest") },
    CancelKeyDeletion: { request: seedJson("cancelDeletionRequest") },
    GenerateDataKey: {
      request: seedJson("generateDataKeyRequest"),
      response: seedJson("generateDataKeyResponse"),
    },
  };
}
