import { type DescMessage, fromJson, type JsonValue, type Message } from "@bufbuild/protobuf";
import { checkRequestJson } from "./check-request-json.js";
import { compileRestJsonReader } from "./compiled-json-reader.js";
import { describeJsonError } from "./describe-json-error.js";
import { isJsonObject } from "./is-json-object.js";

/**
 * messageFromJson turns a parsed request body into its message the one way every JSON
 * protocol does (REST, Connect's JSON framings, the AWS JSON API): first the checks fromJson
 * lacks (checkRequestJson: a `__proto__` map key, integers as plain decimals), then the
 * reader compiled once per type, and for whatever that leaves, `fromJson` itself — so answers
 * and errors stay fromJson's. A fromJson error becomes `invalid(describeJsonError(…))`, which
 * names the field and never echoes a value; each protocol says how it wraps that message.
 */
export function messageFromJson(
  desc: DescMessage,
  json: JsonValue,
  ignoreUnknownFields: boolean,
  invalid: (message: string) => Error,
): Message {
  checkRequestJson(desc, json);
  if (isJsonObject(json)) {
    const fast = compileRestJsonReader(desc, ignoreUnknownFields ? IGNORE_UNKNOWN : STRICT)(json);
    if (fast !== undefined) return fast;
  }
  try {
    return fromJson(desc, json, { ignoreUnknownFields });
  } catch (e) {
    throw invalid(describeJsonError(e));
  }
}

// Made once: this runs on every request.
const IGNORE_UNKNOWN = { ignoreUnknownFields: true };
const STRICT = { ignoreUnknownFields: false };
