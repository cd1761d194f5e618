import type { CompiledRoute } from "./compile-routes.js";
import { matchPathTemplate, type TemplateSegment } from "./path-template.js";
import { canonicalizePathSegment } from "./percent-encoding.js";

/**
 * RouteMatch is the outcome of matching a request line: a route with the raw
 * segments each path variable captured; a path that exists under other HTTP
 * methods (405, with the methods for `Allow`); or no such path (404).
 */
export type RouteMatch =
  | { readonly kind: "found"; readonly route: CompiledRoute; readonly captures: string[][] }
  | { readonly kind: "method-not-allowed"; readonly allow: readonly string[] }
  | { readonly kind: "not-found" };

/**
 * RouteMatcher matches an HTTP method and raw path against compiled routes.
 */
export interface RouteMatcher {
  match(httpMethod: string, rawPath: string): RouteMatch;
}

/**
 * createRouteMatcher returns a matcher over the routes. Routes made only of
 * literal segments (no variable, wildcard or `:verb`) are looked up in a Map
 * from canonical path to HTTP method, built once here: an exact literal match
 * wins over every template, so `POST /kms/keys/rotate` reaches RotateKey and
 * not `/kms/keys/{key_id}`, and the common case costs one lookup. The other
 * routes are tried after it, the most specific first: segment by segment, a
 * literal beats `*`, which beats `**`; a route with a `:verb` beats one
 * without. Every template is considered for the method, so
 * `GET /kms/keys/delete` still reaches `GET /kms/keys/{key_id}` although
 * `DELETE /kms/keys/delete` is a literal route; 405 lists the methods of both.
 */
export function createRouteMatcher(routes: readonly CompiledRoute[]): RouteMatcher {
  const literal = new Map<string, Map<string, CompiledRoute>>();
  const templated: CompiledRoute[] = [];
  for (const route of routes) {
    const path = literalPath(route);
    if (path === undefined) {
      templated.push(route);
      continue;
    }
    let byMethod = literal.get(path);
    if (byMethod === undefined) {
      byMethod = new Map();
      literal.set(path, byMethod);
    }
    // compileRoutes refuses two routes on one method and path, so this never overwrites.
    byMethod.set(route.httpMethod, route);
  }
  const ordered = templated.sort(compareSpecificity);
  // Without an escape in any literal, only a path with a `%` can canonicalize
  // to one (`clear%2Dcache`): other paths skip the canonical retry cheaply.
  const literalsHaveEscapes = [...literal.keys()].some((path) => path.includes("%"));
  const retry = (rawPath: string) =>
    literalsHaveEscapes || rawPath.includes("%") ? lookupCanonical(literal, rawPath) : undefined;
  return {
    match(httpMethod, rawPath) {
      const byMethod = literal.get(rawPath) ?? retry(rawPath);
      const route = byMethod?.get(httpMethod);
      if (route !== undefined) {
        return { kind: "found", route, captures: [] };
      }
      // The methods for a 405 are gathered only once no route matched, so a
      // found template costs no Set.
      let others: string[] | undefined;
      for (let i = 0; i < ordered.length; i++) {
        const candidate = ordered[i] as CompiledRoute;
        const captures = matchPathTemplate(candidate.template, rawPath);
        if (captures === undefined) {
          continue;
        }
        if (candidate.httpMethod === httpMethod) {
          return { kind: "found", route: candidate, captures };
        }
        others ??= [];
        others.push(candidate.httpMethod);
      }
      if (byMethod === undefined && others === undefined) {
        return { kind: "not-found" };
      }
      const allow = new Set([...(byMethod?.keys() ?? []), ...(others ?? [])]);
      return { kind: "method-not-allowed", allow: [...allow].sort() };
    },
  };
}

/** literalPath is the canonical path of a route made of literal segments only, else undefined. */
function literalPath(route: CompiledRoute): string | undefined {
  const { segments, verb } = route.template;
  if (verb !== undefined || segments.some((s) => s.kind !== "literal")) {
    return undefined;
  }
  return `/${segments.map((s) => (s.kind === "literal" ? s.value : "")).join("/")}`;
}

/** Paths made only of unreserved characters and `/` are already canonical. */
const canonicalPath = /^[A-Za-z0-9\-._~/]*$/;

/**
 * lookupCanonical retries the literal lookup with the path's canonical form
 * (`clear%2Dcache` is `clear-cache`), which only escaped or non-ASCII paths
 * need; a malformed escape matches no literal.
 */
function lookupCanonical<V>(literal: Map<string, V>, rawPath: string): V | undefined {
  if (canonicalPath.test(rawPath) || !rawPath.startsWith("/")) {
    return undefined;
  }
  const segments: string[] = [];
  for (const raw of rawPath.slice(1).split("/")) {
    const segment = canonicalizePathSegment(raw);
    if (segment === undefined) {
      return undefined;
    }
    segments.push(segment);
  }
  return literal.get(`/${segments.join("/")}`);
}

const rank: Record<TemplateSegment["kind"], number> = {
  literal: 0,
  wildcard: 1,
  "double-wildcard": 2,
};

/** compareSpecificity orders the more specific route first. */
function compareSpecificity(a: CompiledRoute, b: CompiledRoute): number {
  const sa = a.template.segments;
  const sb = b.template.segments;
  for (let i = 0; i < Math.min(sa.length, sb.length); i++) {
    const diff = rank[(sa[i] as TemplateSegment).kind] - rank[(sb[i] as TemplateSegment).kind];
    if (diff !== 0) {
      return diff;
    }
  }
  if (sa.length !== sb.length) {
    return sb.length - sa.length;
  }
  return (b.template.verb === undefined ? 0 : 1) - (a.template.verb === undefined ? 0 : 1);
}
