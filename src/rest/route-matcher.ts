import type { CompiledRoute } from "./compile-routes.js";
import { matchPathTemplate, type TemplateSegment } from "./path-template.js";

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
 * createRouteMatcher returns a matcher over the routes. When several routes
 * match, the most specific wins: segment by segment, a literal beats `*`,
 * which beats `**`; a route with a `:verb` beats one without. Unlike a trie
 * that stops at the first literal match, every route is considered for the
 * method, so `GET /kms/keys/delete` still reaches `GET /kms/keys/{key_id}`
 * although `DELETE /kms/keys/delete` is a literal route.
 */
export function createRouteMatcher(routes: readonly CompiledRoute[]): RouteMatcher {
  const ordered = [...routes].sort(compareSpecificity);
  return {
    match(httpMethod, rawPath) {
      const allow = new Set<string>();
      for (const route of ordered) {
        const captures = matchPathTemplate(route.template, rawPath);
        if (captures === undefined) {
          continue;
        }
        if (route.httpMethod === httpMethod) {
          return { kind: "found", route, captures };
        }
        allow.add(route.httpMethod);
      }
      if (allow.size > 0) {
        return { kind: "method-not-allowed", allow: [...allow].sort() };
      }
      return { kind: "not-found" };
    },
  };
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
