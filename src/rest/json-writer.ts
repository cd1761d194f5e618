import type { DescMessage, JsonObject, JsonValue, MessageShape } from "@bufbuild/protobuf";
import { toJson } from "@bufbuild/protobuf";

/**
 * writeRestJson serializes a response message the way the documented REST API
 * shows it. It starts from protobuf JSON with proto field names (snake_case)
 * and every implicit-presence field emitted (`false`, `0`, `""`, `[]`, `{}`),
 * then walks the descriptor — into nested messages, list items and map values
 * — and applies two rules:
 *
 * 1. **Explicit nulls.** A field with explicit presence (`optional` scalars,
 *    message fields) that is unset and is not a member of a real `oneof` is
 *    written as `null` instead of being omitted, because the seed's examples
 *    show `"next_marker": null`, `"deletion_date": null`, `"namespace": null`,
 *    `"config_summary": null`. Members of a real oneof that are not set stay
 *    absent: at most one of them exists.
 * 2. **Flattened unions.** A message whose fields all belong to one real
 *    `oneof` and are all message-typed (e.g. `BackendSummary { oneof summary {
 *    LocalBackendSummary local; VaultBackendSummary vault; } }`) is written as
 *    the object of its set member alone — `{"backend_type": "local", …}`
 *    rather than `{"local": {"backend_type": "local", …}}` — or `null` when no
 *    member is set.
 *
 * Well-known types (`google.protobuf.*`, e.g. Timestamp as an RFC 3339
 * string) keep their protobuf JSON form. Bytes are standard base64 with
 * padding, as protobuf JSON writes them.
 */
export function writeRestJson<Desc extends DescMessage>(
  schema: Desc,
  message: MessageShape<Desc>,
): JsonValue {
  const json = toJson(schema, message, { useProtoFieldName: true, alwaysEmitImplicit: true });
  return patchMessage(schema, json);
}

function patchMessage(desc: DescMessage, json: JsonValue): JsonValue {
  if (desc.typeName.startsWith("google.protobuf.") || !isJsonObject(json)) {
    return json;
  }
  if (isUnion(desc)) {
    for (const field of desc.fields) {
      const value = json[field.name];
      if (value !== undefined && field.message !== undefined) {
        return patchMessage(field.message, value);
      }
    }
    return null;
  }
  // Rebuilt in declaration order, so the added nulls sit where the seed shows
  // them rather than at the end.
  const out: JsonObject = {};
  for (const field of desc.fields) {
    const key = field.name;
    const value = json[key];
    if (value === undefined) {
      // With alwaysEmitImplicit, toJson omits only unset fields with explicit
      // presence, and unset members of a oneof.
      if (field.oneof === undefined) {
        out[key] = null;
      }
      continue;
    }
    switch (field.fieldKind) {
      case "message":
        out[key] = patchMessage(field.message, value);
        break;
      case "list":
        out[key] =
          field.listKind === "message" && Array.isArray(value)
            ? value.map((item) => patchMessage(field.message, item))
            : value;
        break;
      case "map":
        if (field.mapKind === "message" && isJsonObject(value)) {
          for (const [k, v] of Object.entries(value)) {
            value[k] = patchMessage(field.message, v);
          }
        }
        out[key] = value;
        break;
      default:
        out[key] = value;
        break;
    }
  }
  return out;
}

const unionCache = new WeakMap<DescMessage, boolean>();

/** isUnion tells a message that is nothing but one oneof of messages. */
function isUnion(desc: DescMessage): boolean {
  let union = unionCache.get(desc);
  if (union === undefined) {
    const oneof = desc.fields[0]?.oneof;
    union =
      oneof !== undefined &&
      desc.fields.every((f) => f.oneof === oneof && f.fieldKind === "message");
    unionCache.set(desc, union);
  }
  return union;
}

function isJsonObject(json: JsonValue | undefined): json is JsonObject {
  return typeof json === "object" && json !== null && !Array.isArray(json);
}
