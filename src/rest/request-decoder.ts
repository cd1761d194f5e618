import type { DescField, DescMessage, JsonObject, JsonValue, Message } from "@bufbuild/protobuf";
import { ScalarType } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { isDecimalInteger, isIntegerScalar } from "./check-request-json.js";
import type { CompiledRoute } from "./compile-routes.js";
import { isJsonObject } from "./is-json-object.js";
import { exceedsJsonDepth, maxJsonDepth } from "./json-depth.js";
import { messageFromJson } from "./message-from-json.js";
import { decodePathSegment, decodeQueryComponent } from "./percent-encoding.js";
import { quote } from "./quote.js";

/**
 * decodeRequest builds the request message of a matched route from the HTTP
 * body, the path variables and the query string, in that order, and then
 * parses the result with ONE protobuf `fromJson` (unknown fields rejected), so
 * JSON names, `json_name` options, base64 and range checks all behave exactly
 * as in protobuf JSON. The common shapes (strings, enums by name, padded
 * base64, string maps) skip fromJson's reflection through a reader compiled
 * from the descriptor (compileRestJsonReader), which gives the same message and
 * leaves everything else, errors included, to fromJson.
 *
 * - **Body.** A rule without `body` refuses a non-blank body. With
 *   `body: "*"` the body must be a JSON object; a blank body counts as `{}`.
 *   With `body: "field"` the body is that field's JSON value; a blank body
 *   leaves it unset. The body is parsed as JSON whatever its Content-Type
 *   (`curl -d` sends `application/x-www-form-urlencoded`).
 * - **Path.** Each variable is percent-decoded (`%2F` stays encoded within a
 *   multi-segment capture) and overrides whatever the body said for that
 *   field, as in google.api.http's `PATCH /v1/{book.name=…}` with
 *   `body: "book"`. An empty variable is refused.
 * - **Query.** `name=value` pairs, `+` as space. A name is a field path of
 *   proto names or JSON names (`key_id` or `keyId`; `KeyUsage` or `key_usage`),
 *   dotted for nested fields (`config.key_dir`); a repeated name fills a
 *   repeated field. Only singular scalars and enums, and repeated ones, can
 *   be set this way. *Extension:* google.api.http allows no query parameters
 *   with `body: "*"`; here a query parameter may set any field that neither
 *   the body nor the path set (so `DELETE /kms/keys/delete?keyId=…` with no
 *   body works, as the contract requires); naming a field already set is an
 *   error. Parameters named `X-Amz-*` belong to presigned SigV4 URLs and are
 *   ignored.
 *
 * - **Checks `fromJson` lacks.** A map key `__proto__` is refused (protobuf-es
 *   maps are plain objects, which would drop it), and an integer given as a
 *   string must be a plain decimal (`"7"`, not `"0x7"` or `"7e0"`); see
 *   checkRequestJson.
 *
 * Every failure is a ConnectError with Code.InvalidArgument and a short
 * message naming the field (never a protobuf type dump, never the value).
 */
export function decodeRequest(
  route: CompiledRoute,
  captures: readonly (readonly string[])[],
  rawQuery: string,
  body: Uint8Array,
): Message {
  const json = readBody(route, body);
  for (const [i, variable] of route.variables.entries()) {
    let value: string;
    try {
      value = (captures[i] ?? [])
        .map((segment) => decodePathSegment(segment, variable.multiSegment))
        .join("/");
    } catch {
      throw invalid("malformed percent-encoding in the path");
    }
    if (value === "") {
      throw invalid(`path variable ${JSON.stringify(variable.name)} is empty`);
    }
    const leaf = variable.fields[variable.fields.length - 1] as DescField;
    place(json, variable.fields, parameterToJson(leaf, value, variable.name), true, variable.name);
  }
  // Most calls carry no query: no Map to build for it.
  for (const [name, values] of rawQuery === "" ? noQuery : parseQuery(rawQuery)) {
    const fields = resolveQueryName(route.method.input, name);
    const leaf = fields[fields.length - 1] as DescField;
    if (leaf.fieldKind !== "list" && values.length > 1) {
      throw invalid(`field ${JSON.stringify(name)} is set more than once`);
    }
    const value =
      leaf.fieldKind === "list"
        ? values.map((v) => parameterToJson(leaf, v, name))
        : parameterToJson(leaf, values[0] as string, name);
    place(json, fields, value, false, name);
  }
  // Before fromJson (checkRequestJson): it would drop a `__proto__` map key and read "0x7" as 7.
  return messageFromJson(route.method.input, json, false, invalid);
}

function invalid(message: string): ConnectError {
  return new ConnectError(message, Code.InvalidArgument);
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function readBody(route: CompiledRoute, body: Uint8Array): JsonObject {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw invalid("invalid JSON");
  }
  const blank = text.trim() === "";
  const rule = route.body;
  if (rule.kind === "none") {
    if (!blank) {
      throw invalid("this API takes no request body");
    }
    return {};
  }
  if (blank) {
    return {};
  }
  if (exceedsJsonDepth(text)) {
    throw invalid(`JSON nests deeper than ${maxJsonDepth} levels`);
  }
  let parsed: JsonValue;
  try {
    parsed = JSON.parse(text) as JsonValue;
  } catch {
    throw invalid("invalid JSON");
  }
  if (rule.kind === "field") {
    return { [rule.field.name]: parsed };
  }
  if (!isJsonObject(parsed)) {
    throw invalid("request body must be a JSON object");
  }
  return parsed;
}

/** noQuery is what parseQuery gives for an empty query; never written to. */
const noQuery: ReadonlyMap<string, string[]> = new Map();

/** parseQuery groups the query's decoded values by decoded name, in order. */
function parseQuery(rawQuery: string): Map<string, string[]> {
  const params = new Map<string, string[]>();
  for (const pair of rawQuery.split("&")) {
    if (pair === "") {
      continue;
    }
    const eq = pair.indexOf("=");
    let name: string;
    let value: string;
    try {
      name = decodeQueryComponent(eq < 0 ? pair : pair.slice(0, eq));
      value = eq < 0 ? "" : decodeQueryComponent(pair.slice(eq + 1));
    } catch {
      throw invalid("malformed percent-encoding in the query");
    }
    if (name.toLowerCase().startsWith("x-amz-")) {
      continue; // presigned SigV4 parameters, verified at the HTTP edge
    }
    const values = params.get(name);
    if (values === undefined) {
      params.set(name, [value]);
    } else {
      values.push(value);
    }
  }
  return params;
}

/** resolveQueryName resolves a dotted query parameter name to fields. */
function resolveQueryName(input: DescMessage, name: string): DescField[] {
  const fields: DescField[] = [];
  let current: DescMessage | undefined = input;
  for (const part of name.split(".")) {
    const field: DescField | undefined = current?.fields.find(
      (f) => f.name === part || f.jsonName === part,
    );
    if (field === undefined) {
      throw invalid(`unknown field ${quote(name)}`);
    }
    fields.push(field);
    current = field.fieldKind === "message" ? field.message : undefined;
  }
  const leaf = fields[fields.length - 1] as DescField;
  const settable =
    leaf.fieldKind === "scalar" ||
    leaf.fieldKind === "enum" ||
    (leaf.fieldKind === "list" && leaf.listKind !== "message");
  if (!settable) {
    throw invalid(`field ${quote(name)} cannot be set from the query`);
  }
  return fields;
}

/**
 * place sets a value at a field path in the JSON tree, keyed by proto name.
 * With `override` (path variables) it replaces whatever the body had under
 * either of the field's names; without (query parameters) a field that is
 * already set is an error.
 */
function place(
  root: JsonObject,
  fields: readonly DescField[],
  value: JsonValue,
  override: boolean,
  name: string,
): void {
  let obj = root;
  for (const field of fields.slice(0, -1)) {
    const keys = keysOf(obj, field);
    const existing = keys.length > 0 ? obj[keys[0] as string] : undefined;
    if (isJsonObject(existing)) {
      obj = existing;
    } else if (existing === undefined || existing === null) {
      for (const key of keys) {
        delete obj[key];
      }
      const child: JsonObject = {};
      obj[field.name] = child;
      obj = child;
    } else {
      throw invalid(`invalid value for field ${quote(field.name)}: expected object`);
    }
  }
  const leaf = fields[fields.length - 1] as DescField;
  const keys = keysOf(obj, leaf);
  if (!override && keys.some((key) => obj[key] !== null)) {
    throw invalid(`field ${quote(name)} is set more than once`);
  }
  for (const key of keys) {
    delete obj[key];
  }
  obj[leaf.name] = value;
}

/** keysOf lists the keys under which a JSON object holds a field. */
function keysOf(obj: JsonObject, field: DescField): string[] {
  return [field.name, field.jsonName].filter(
    (key, i, all) => all.indexOf(key) === i && Object.hasOwn(obj, key),
  );
}

/**
 * parameterToJson turns a path or query string into the JSON value protobuf
 * JSON expects for the field: integers and floats stay strings (protobuf JSON
 * accepts them, and range-checks), but must look like numbers — `Number()`
 * would take `0x10` or `1e2`, so integers are plain decimals; booleans must
 * be `true` or `false`.
 */
function parameterToJson(field: DescField, text: string, name: string): JsonValue {
  if (field.enum !== undefined) {
    return /^-?\d+$/.test(text) ? Number(text) : text;
  }
  const bad = (expected: string) =>
    invalid(`invalid value for field ${quote(name)}: expected ${expected}`);
  if (field.scalar !== undefined && isIntegerScalar(field.scalar)) {
    if (isDecimalInteger(text)) {
      return text;
    }
    throw bad("an integer");
  }
  switch (field.scalar) {
    case ScalarType.BOOL:
      if (text === "true" || text === "false") {
        return text === "true";
      }
      throw bad("true or false");
    case ScalarType.FLOAT:
    case ScalarType.DOUBLE:
      if (/^(-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?|NaN|-?Infinity)$/.test(text)) {
        return text;
      }
      throw bad("a number");
    default:
      return text; // string, or bytes as base64
  }
}
