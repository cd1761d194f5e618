import type { DescField, DescMessage, DescMethod, DescService } from "@bufbuild/protobuf";
import { getOption, hasOption } from "@bufbuild/protobuf";
import { http } from "../../gen/google/api/annotations_pb.js";
import type { HttpRule } from "../../gen/google/api/http_pb.js";
import { type PathTemplate, parsePathTemplate } from "./path-template.js";

/**
 * RequestBodyRule says where a route's HTTP body goes: nowhere (a body is
 * refused), into the whole request message (`body: "*"`), or into one
 * top-level field (`body: "config"`).
 */
export type RequestBodyRule =
  | { readonly kind: "none" }
  | { readonly kind: "all" }
  | { readonly kind: "field"; readonly field: DescField };

/**
 * RouteVariable is a path variable resolved against the request message: the
 * chain of fields from the request message down to a singular scalar or enum.
 */
export interface RouteVariable {
  /** The field path as written in the template, e.g. `key_id`. */
  readonly name: string;
  readonly fields: readonly DescField[];
  /** True when the capture may span segments (`**`, `a/*`): its `%2F` escapes stay encoded. */
  readonly multiSegment: boolean;
}

/**
 * CompiledRoute is one HTTP binding of one RPC, checked against the request
 * message at start-up.
 */
export interface CompiledRoute {
  readonly method: DescMethod;
  /** Upper-case HTTP method, e.g. `GET`, or a `custom` rule's kind. */
  readonly httpMethod: string;
  readonly template: PathTemplate;
  readonly body: RequestBodyRule;
  /** Parallel to `template.variables`. */
  readonly variables: readonly RouteVariable[];
}

/**
 * compileRoutes reads every method's `google.api.http` rule (including its
 * `additional_bindings`) and compiles it. A method without a rule is not
 * routed. Any bad rule — a template that does not parse, a body or path
 * variable naming no suitable field, a streaming method, an unsupported
 * option, two rules claiming the same method and path — throws, so that a
 * mistake in the proto fails at start-up rather than on the first request.
 */
export function compileRoutes(service: DescService): CompiledRoute[] {
  const routes: CompiledRoute[] = [];
  for (const method of service.methods) {
    if (hasOption(method, http)) {
      routes.push(...compileRule(method, getOption(method, http)));
    }
  }
  const seen = new Map<string, CompiledRoute>();
  for (const route of routes) {
    const key = `${route.httpMethod} ${patternKey(route.template)}`;
    const other = seen.get(key);
    if (other !== undefined) {
      throw new Error(
        `conflicting google.api.http rules: ${route.httpMethod} ${route.template.template} ` +
          `is bound by both ${other.method.parent.typeName}.${other.method.name} and ` +
          `${route.method.parent.typeName}.${route.method.name}`,
      );
    }
    seen.set(key, route);
  }
  return routes;
}

/**
 * compileRule compiles one `google.api.http` rule of a method, and its
 * additional bindings, into routes; it throws on any bad rule (see
 * compileRoutes).
 */
export function compileRule(method: DescMethod, rule: HttpRule, nested = false): CompiledRoute[] {
  const where = `google.api.http rule of ${method.parent.typeName}.${method.name}`;
  const fail = (reason: string): never => {
    throw new Error(`${where}: ${reason}`);
  };
  if (method.methodKind !== "unary") {
    fail(`only unary methods can have a REST binding, not ${method.methodKind}`);
  }
  if (rule.responseBody !== "") {
    fail("response_body is not supported");
  }
  if (nested && rule.additionalBindings.length > 0) {
    fail("an additional binding may not have additional_bindings of its own");
  }

  let httpMethod: string;
  let path: string;
  switch (rule.pattern.case) {
    case "get":
    case "put":
    case "post":
    case "delete":
    case "patch":
      httpMethod = rule.pattern.case.toUpperCase();
      path = rule.pattern.value;
      break;
    case "custom":
      httpMethod = rule.pattern.value.kind;
      path = rule.pattern.value.path;
      if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(httpMethod)) {
        fail(`custom kind ${JSON.stringify(httpMethod)} is not an HTTP method`);
      }
      break;
    default:
      return fail("no HTTP method and path (get, put, post, delete, patch or custom)");
  }

  let template: PathTemplate;
  try {
    template = parsePathTemplate(path);
  } catch (e) {
    return fail(e instanceof Error ? e.message : String(e));
  }

  const input = method.input;
  const variables = template.variables.map((v): RouteVariable => {
    const name = v.fieldPath.join(".");
    return {
      name,
      fields: resolveParameterPath(input, v.fieldPath, (reason) =>
        fail(`path variable ${JSON.stringify(name)}: ${reason}`),
      ),
      multiSegment: v.end === undefined || v.end - v.start > 1,
    };
  });

  let body: RequestBodyRule;
  if (rule.body === "") {
    body = { kind: "none" };
  } else if (rule.body === "*") {
    body = { kind: "all" };
  } else {
    const field = input.fields.find((f) => f.name === rule.body);
    if (field === undefined) {
      return fail(
        `body ${JSON.stringify(rule.body)} names no top-level field of ${input.typeName}`,
      );
    }
    if (variables.some((v) => v.fields.length === 1 && v.fields[0] === field)) {
      fail(`field ${JSON.stringify(rule.body)} is bound by both the path and the body`);
    }
    body = { kind: "field", field };
  }

  const route: CompiledRoute = { method, httpMethod, template, body, variables };
  return [route, ...rule.additionalBindings.flatMap((b) => compileRule(method, b, true))];
}

/**
 * resolveParameterPath resolves a dotted field path (proto names) to fields:
 * every step but the last a singular message field, the last a singular scalar
 * or enum — the only kinds a path variable can carry.
 */
function resolveParameterPath(
  message: DescMessage,
  path: readonly string[],
  fail: (reason: string) => never,
): DescField[] {
  const fields: DescField[] = [];
  let current: DescMessage | undefined = message;
  for (const [i, name] of path.entries()) {
    if (current === undefined) {
      return fail(`${fields[fields.length - 1]?.name} is not a message field`);
    }
    const field: DescField | undefined = current.fields.find((f) => f.name === name);
    if (field === undefined) {
      return fail(`no field ${JSON.stringify(name)} in ${current.typeName}`);
    }
    fields.push(field);
    const last = i === path.length - 1;
    if (last) {
      if (field.fieldKind !== "scalar" && field.fieldKind !== "enum") {
        fail(
          `field ${JSON.stringify(name)} must be a singular scalar or enum, not ${field.fieldKind}`,
        );
      }
    } else {
      current = field.fieldKind === "message" ? field.message : undefined;
    }
  }
  return fields;
}

/** patternKey is a template with variable names erased, to spot duplicate routes. */
function patternKey(template: PathTemplate): string {
  const segments = template.segments.map((s) =>
    s.kind === "literal" ? s.value : s.kind === "wildcard" ? "*" : "**",
  );
  return `/${segments.join("/")}${template.verb === undefined ? "" : `:${template.verb}`}`;
}
