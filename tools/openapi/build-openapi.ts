import {
  type DescField,
  type DescMessage,
  type DescMethod,
  type DescService,
  ScalarType,
} from "@bufbuild/protobuf";
import { type CompiledRoute, compileRoutes } from "../../src/rest/compile-routes.js";
import { restErrorCodes } from "../../src/rest/index.js";

/** JsonSchema is a JSON Schema 2020-12 object, as OpenAPI 3.1 embeds it. */
export type JsonSchema = Record<string, unknown>;

/** OpenApiSources are what the document is built from besides the service's descriptors. */
export interface OpenApiSources {
  /** The leading comment of a proto element, or undefined (descriptors built without source info). */
  comments: (desc: DescMethod | DescMessage | DescField | DescService) => string | undefined;
  /** Documented JSON examples per RPC name: the request body and the 200 answer. */
  examples: Record<string, { request?: unknown; response?: unknown }>;
  /** The package version, written as `info.version`. */
  version: string;
}

/** WKT_SCHEMAS are the protobuf JSON forms of the well-known types the proto uses. */
const WKT_SCHEMAS: Record<string, JsonSchema> = {
  "google.protobuf.Timestamp": { type: "string", format: "date-time" },
  "google.protobuf.Duration": { type: "string", pattern: "^-?[0-9]+(\\.[0-9]+)?s$" },
  "google.protobuf.Empty": { type: "object" },
  "google.protobuf.Struct": { type: "object" },
  "google.protobuf.Value": {},
};

/**
 * buildOpenApi derives the OpenAPI 3.1 description of the REST surface from the service's
 * `google.api.http` rules, compiled by the same code the transcoder uses (so a rule the
 * gateway would refuse fails here too), its message descriptors, and the proto comments.
 * It is a pure function of its inputs: the same proto gives the same document, so CI can
 * regenerate it and diff, as for gen/.
 *
 * JSON follows the REST writer: responses use proto field names (snake_case) with an
 * explicit `null` for unset fields that have presence, and a union message whose members
 * are all messages is written as its set member; requests accept the proto names and any
 * declared `json_name` (e.g. `KeyUsage`), which is what the schema shows.
 */
export function buildOpenApi(service: DescService, sources: OpenApiSources): JsonSchema {
  const schemas: Record<string, JsonSchema> = {};
  const paths: Record<string, Record<string, unknown>> = {};

  /** ref returns a $ref to the message's schema for one direction, building it on first use. */
  function ref(message: DescMessage, direction: "in" | "out"): JsonSchema {
    const wkt = WKT_SCHEMAS[message.typeName];
    if (wkt !== undefined) return wkt;
    const name = direction === "out" ? message.typeName : `${message.typeName}.Input`;
    if (!(name in schemas)) {
      schemas[name] = {};
      schemas[name] = messageSchema(message, direction);
    }
    return { $ref: `#/components/schemas/${name}` };
  }

  function messageSchema(message: DescMessage, direction: "in" | "out"): JsonSchema {
    const description = sources.comments(message);
    if (direction === "out" && isUnion(message)) {
      return {
        ...(description ? { description } : {}),
        oneOf: message.fields.map((f) => ref(f.message as DescMessage, direction)),
      };
    }
    const properties: Record<string, JsonSchema> = {};
    for (const field of message.fields) {
      properties[fieldName(field, direction)] = fieldSchema(field, direction);
    }
    return {
      type: "object",
      ...(description ? { description } : {}),
      properties,
      ...(direction === "out"
        ? { required: message.fields.filter((f) => f.oneof === undefined).map((f) => f.name) }
        : {}),
    };
  }

  function fieldSchema(field: DescField, direction: "in" | "out"): JsonSchema {
    const description = sources.comments(field);
    let schema: JsonSchema;
    switch (field.fieldKind) {
      case "scalar":
        schema = scalarSchema(field.scalar);
        break;
      case "enum":
        schema = { type: "string", enum: field.enum.values.map((v) => v.name) };
        break;
      case "message":
        schema = ref(field.message, direction);
        break;
      case "list":
        schema = {
          type: "array",
          items:
            field.listKind === "scalar"
              ? scalarSchema(field.scalar)
              : field.listKind === "enum"
                ? { type: "string", enum: field.enum.values.map((v) => v.name) }
                : ref(field.message, direction),
        };
        break;
      case "map":
        schema = {
          type: "object",
          additionalProperties:
            field.mapKind === "scalar"
              ? scalarSchema(field.scalar)
              : field.mapKind === "enum"
                ? { type: "string", enum: field.enum.values.map((v) => v.name) }
                : ref(field.message, direction),
        };
        break;
    }
    const nullable = direction === "out" && hasPresence(field);
    if (nullable) {
      schema = "$ref" in schema ? { anyOf: [schema, { type: "null" }] } : withNull(schema);
    }
    return description ? { ...schema, description } : schema;
  }

  const bindings = new Map<string, number>();
  for (const route of compileRoutes(service)) {
    const { method } = route;
    const path = openApiPath(route);
    paths[path] ??= {};
    const operations = paths[path];
    // operationId is unique: an additional binding of an RPC gets a number.
    const nth = (bindings.get(method.name) ?? 0) + 1;
    bindings.set(method.name, nth);
    const id = nth === 1 ? method.name : `${method.name}${nth}`;
    operations[route.httpMethod.toLowerCase()] = operation(route, method, id);
  }

  function operation(route: CompiledRoute, method: DescMethod, id: string): JsonSchema {
    const pathFields = new Set(route.variables.map((v) => v.fields[0]?.name));
    const parameters: JsonSchema[] = route.variables.map((v) => ({
      name: v.name,
      in: "path",
      required: true,
      schema: { type: "string" },
      ...(sources.comments(v.fields[0] as DescField)
        ? { description: sources.comments(v.fields[0] as DescField) }
        : {}),
    }));
    const examples = sources.examples[method.name] ?? {};
    let requestBody: JsonSchema | undefined;
    if (route.body.kind === "none") {
      for (const field of method.input.fields) {
        if (pathFields.has(field.name) || field.fieldKind === "message") continue;
        const description = sources.comments(field);
        parameters.push({
          name: field.name,
          in: "query",
          required: false,
          schema: fieldSchema(field, "in"),
          ...(description ? { description } : {}),
        });
      }
    } else {
      const schema =
        route.body.kind === "all"
          ? bodySchema(method.input, pathFields)
          : fieldSchema(route.body.field, "in");
      requestBody = {
        required: route.body.kind === "field",
        content: {
          "application/json": {
            schema,
            ...(examples.request === undefined ? {} : { example: examples.request }),
          },
        },
      };
    }
    const description = sources.comments(method);
    const success =
      method.output.fields.length === 0
        ? { "204": { description: "Done; no body." } }
        : {
            "200": {
              description: `${method.output.name} as JSON.`,
              content: {
                "application/json": {
                  schema: ref(method.output, "out"),
                  ...(examples.response === undefined ? {} : { example: examples.response }),
                },
              },
            },
          };
    return {
      operationId: id,
      summary: method.name,
      ...(description ? { description } : {}),
      tags: ["KmsAdminService"],
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(requestBody ? { requestBody } : {}),
      responses: {
        ...success,
        "400": { $ref: "#/components/responses/Error" },
        "401": { $ref: "#/components/responses/Error" },
        "403": { $ref: "#/components/responses/Error" },
        "404": { $ref: "#/components/responses/Error" },
        "409": { $ref: "#/components/responses/Error" },
        "413": { $ref: "#/components/responses/Error" },
        "503": { $ref: "#/components/responses/Error" },
        default: { $ref: "#/components/responses/Error" },
      },
    };
  }

  /** bodySchema is the request message minus the fields bound to the path (`body: "*"`). */
  function bodySchema(message: DescMessage, pathFields: ReadonlySet<string | undefined>) {
    const properties: Record<string, JsonSchema> = {};
    for (const field of message.fields) {
      if (!pathFields.has(field.name))
        properties[fieldName(field, "in")] = fieldSchema(field, "in");
    }
    const description = sources.comments(message);
    return { type: "object", ...(description ? { description } : {}), properties };
  }

  const serviceComment = sources.comments(service);
  return {
    openapi: "3.1.0",
    info: {
      title: "kms-gateway admin API (REST)",
      version: sources.version,
      summary: "The RustFS KMS admin API, as kms-gateway serves it over REST.",
      description: [
        serviceComment,
        "Generated from proto/kms/admin/v1 by tools/generate-openapi.ts; do not edit by hand.",
        "Every path is also served under /minio/admin/v3/ instead of /rustfs/admin/v3/.",
        "Requests are signed with AWS Signature Version 4 (service `s3`, any region); see docs/api.md.",
      ]
        .filter((line) => line !== undefined)
        .join("\n\n"),
      license: { name: "Apache-2.0", identifier: "Apache-2.0" },
    },
    servers: [{ url: "http://127.0.0.1:9000", description: "npm start's default address" }],
    security: [{ sigv4: [] }],
    tags: [{ name: "KmsAdminService" }],
    paths,
    components: {
      securitySchemes: {
        sigv4: {
          type: "apiKey",
          in: "header",
          name: "Authorization",
          description:
            "AWS Signature Version 4 (`AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`) " +
            "with `x-amz-date`, or a presigned URL's `X-Amz-*` query parameters.",
        },
      },
      responses: {
        Error: {
          description:
            "An error: its `code` and a message fit to show (never a secret or a backend's own text).",
          content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
        },
      },
      schemas: {
        Error: {
          type: "object",
          required: ["code", "message"],
          properties: {
            code: { type: "string", enum: [...restErrorCodes] },
            message: { type: "string" },
          },
        },
        ...sortedKeys(schemas),
      },
    },
  };
}

/** openApiPath writes a compiled template as an OpenAPI path (`{key_id}` stays, wildcards named). */
function openApiPath(route: CompiledRoute): string {
  const segments = route.template.segments.map((segment) =>
    segment.kind === "literal" ? segment.value : "*",
  );
  for (const [i, variable] of route.template.variables.entries()) {
    const name = route.variables[i]?.name ?? variable.fieldPath.join(".");
    segments.splice(
      variable.start,
      (variable.end ?? segments.length) - variable.start,
      `{${name}}`,
    );
  }
  const verb = route.template.verb === undefined ? "" : `:${route.template.verb}`;
  return `/${segments.join("/")}${verb}`;
}

function fieldName(field: DescField, direction: "in" | "out"): string {
  return direction === "in" && field.jsonName !== lowerCamel(field.name)
    ? field.jsonName
    : field.name;
}

function lowerCamel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** hasPresence is true for a field the REST writer writes as `null` when unset. */
function hasPresence(field: DescField): boolean {
  if (field.oneof !== undefined) return false;
  if (field.fieldKind === "message") return true;
  return (field.fieldKind === "scalar" || field.fieldKind === "enum") && field.presence === 1;
}

/** isUnion mirrors the REST writer: every field is a message in one real oneof. */
function isUnion(message: DescMessage): boolean {
  return (
    message.fields.length > 0 &&
    message.oneofs.length === 1 &&
    message.fields.every((f) => f.oneof === message.oneofs[0] && f.fieldKind === "message")
  );
}

function withNull(schema: JsonSchema): JsonSchema {
  const type = schema.type;
  return typeof type === "string"
    ? { ...schema, type: [type, "null"] }
    : { anyOf: [schema, { type: "null" }] };
}

function scalarSchema(scalar: ScalarType): JsonSchema {
  switch (scalar) {
    case ScalarType.STRING:
      return { type: "string" };
    case ScalarType.BOOL:
      return { type: "boolean" };
    case ScalarType.BYTES:
      return { type: "string", contentEncoding: "base64" };
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return { type: "number" };
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return { type: "integer", format: "int32" };
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return { type: "integer", format: "int32", minimum: 0 };
    default:
      // 64-bit integers are strings in protobuf JSON (numbers are accepted too).
      return { type: ["string", "integer"], format: "int64" };
  }
}

function sortedKeys<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : 1)));
}
