import type { JsonObject, JsonValue } from "@bufbuild/protobuf";

/** isJsonObject tells a parsed JSON object from an array, null or a scalar. */
export function isJsonObject(json: JsonValue | undefined): json is JsonObject {
  return typeof json === "object" && json !== null && !Array.isArray(json);
}
