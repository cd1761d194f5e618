import { canonicalizePathSegment } from "./percent-encoding.js";

/**
 * TemplateSegment is one `/`-separated segment of a parsed path template.
 * Literal values are kept in canonical percent-encoded form.
 */
export type TemplateSegment =
  | { readonly kind: "literal"; readonly value: string }
  | { readonly kind: "wildcard" }
  | { readonly kind: "double-wildcard" };

/**
 * TemplateVariable is a `{field.path=...}` capture: the segments
 * `[start, end)` of the path, or `[start, ∞)` when `end` is undefined (a `**`
 * capture).
 */
export interface TemplateVariable {
  readonly fieldPath: readonly string[];
  readonly start: number;
  readonly end: number | undefined;
}

/**
 * PathTemplate is a parsed google.api.http path template.
 */
export interface PathTemplate {
  /** The template as written in the proto. */
  readonly template: string;
  readonly segments: readonly TemplateSegment[];
  /** The `:verb` suffix, canonical, or undefined. */
  readonly verb: string | undefined;
  readonly variables: readonly TemplateVariable[];
  /**
   * The leading literal segments no variable captures, canonical, as a path
   * prefix with its trailing `/` (`/kms/keys/` of `/kms/keys/{key_id}`), and
   * how many segments it covers; "" and 0 when the template starts otherwise
   * or is all literal. A path that starts with it exactly matches them all.
   */
  readonly literalPrefix: string;
  readonly literalPrefixSegments: number;
}

/**
 * parsePathTemplate parses one google.api.http path template, throwing an
 * `Error` that names the template and the column on any syntax error.
 *
 * The grammar, from google/api/http.proto:
 *
 *     Template  = "/" Segments [ Verb ] ;
 *     Segments  = Segment { "/" Segment } ;
 *     Segment   = "*" | "**" | LITERAL | Variable ;
 *     Variable  = "{" FieldPath [ "=" Segments ] "}" ;
 *     FieldPath = IDENT { "." IDENT } ;
 *     Verb      = ":" LITERAL ;
 *
 * with these constraints (as in connectrpc/vanguard-go `path_parser.go`):
 * LITERAL is one or more of `[-_.~0-9A-Za-z]` or `%XX` escapes; IDENT is
 * `[A-Za-z_][A-Za-z0-9_]*`; `**` may only be the last segment; a variable may
 * not contain another variable, and names a field path at most once;
 * `{var}` is short for `{var=*}`.
 */
export function parsePathTemplate(template: string): PathTemplate {
  return new TemplateParser(template).parse();
}

/**
 * matchPathTemplate matches a raw (percent-encoded, query-free) request path
 * against a template. It returns, for each template variable in order, the
 * raw segments it captured — or `undefined` when the path does not match.
 * Captured segments are not decoded: the caller decodes them, so that a
 * malformed escape in a variable is a client error rather than a mismatch.
 */
export function matchPathTemplate(template: PathTemplate, rawPath: string): string[][] | undefined {
  if (rawPath.charCodeAt(0) !== 0x2f) {
    return undefined;
  }
  const segments = template.segments;
  return template.verb === undefined && segments[segments.length - 1]?.kind !== "double-wildcard"
    ? matchFixedSegments(template, rawPath)
    : matchSplitPath(template, rawPath);
}

/**
 * bounds holds the [start, end) offsets of the segments matchFixedSegments
 * walks, reused from call to call (matching is synchronous): two numbers per
 * template segment, so it grows to twice the longest template's segment count.
 */
const bounds: number[] = [];

/**
 * matchFixedSegments is matchPathTemplate for a template of a fixed number of
 * segments (no `**`, no `:verb`), walking the path in place: splitting it
 * built a string per segment, most of the cost of a match, where only the
 * captured segments need one.
 */
function matchFixedSegments(template: PathTemplate, rawPath: string): string[][] | undefined {
  const segments = template.segments;
  const last = segments.length - 1;
  let start = 1;
  let first = 0;
  const prefix = template.literalPrefix;
  // Not startsWith: V8 compares a slice with === several times faster.
  if (prefix !== "" && rawPath.slice(0, prefix.length) === prefix) {
    start = prefix.length;
    first = template.literalPrefixSegments;
  }
  for (let i = first; i <= last; i++) {
    const slash = rawPath.indexOf("/", start);
    // Exactly one segment per template segment: a `/` after each but the last.
    if (i === last ? slash >= 0 : slash < 0) {
      return undefined;
    }
    const end = i === last ? rawPath.length : slash;
    const segment = segments[i] as TemplateSegment;
    if (
      segment.kind === "literal" &&
      !regionEquals(rawPath, start, end, segment.value) &&
      // Only a segment that differs from the (canonical) literal needs canonicalizing.
      canonicalizePathSegment(rawPath.slice(start, end)) !== segment.value
    ) {
      return undefined;
    }
    bounds[2 * i] = start;
    bounds[2 * i + 1] = end;
    start = end + 1;
  }
  const variables = template.variables;
  const captures: string[][] = [];
  for (let v = 0; v < variables.length; v++) {
    const variable = variables[v] as TemplateVariable;
    const captured: string[] = [];
    for (let i = variable.start; i < (variable.end as number); i++) {
      captured.push(rawPath.slice(bounds[2 * i], bounds[2 * i + 1]));
    }
    captures.push(captured);
  }
  return captures;
}

/** regionEquals tells whether `text[start, end)` is exactly `value`, without slicing it out. */
function regionEquals(text: string, start: number, end: number, value: string): boolean {
  if (end - start !== value.length) {
    return false;
  }
  for (let i = 0; i < value.length; i++) {
    if (text.charCodeAt(start + i) !== value.charCodeAt(i)) {
      return false;
    }
  }
  return true;
}

/**
 * matchSplitPath is matchPathTemplate for a template with a `**` or a
 * `:verb` (which the proto's routes do not use), on the path split into its
 * segments.
 */
function matchSplitPath(template: PathTemplate, rawPath: string): string[][] | undefined {
  const parts = rawPath.slice(1).split("/");
  if (template.verb !== undefined) {
    const last = parts[parts.length - 1] ?? "";
    const colon = last.lastIndexOf(":");
    if (colon < 0 || canonicalizePathSegment(last.slice(colon + 1)) !== template.verb) {
      return undefined;
    }
    parts[parts.length - 1] = last.slice(0, colon);
  }
  const segments = template.segments;
  const endsWithDoubleWildcard = segments[segments.length - 1]?.kind === "double-wildcard";
  if (endsWithDoubleWildcard) {
    // `**` matches zero or more segments.
    if (parts.length < segments.length - 1) {
      return undefined;
    }
  } else if (parts.length !== segments.length) {
    return undefined;
  }
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    if (segment?.kind !== "literal") {
      continue;
    }
    // A raw segment equal to the (canonical) literal is canonical already:
    // only a differing one needs canonicalizing, which is the costly part.
    const part = parts[i] ?? "";
    if (part !== segment.value && canonicalizePathSegment(part) !== segment.value) {
      return undefined;
    }
  }
  const variables = template.variables;
  const captures: string[][] = [];
  for (let i = 0; i < variables.length; i++) {
    const v = variables[i] as TemplateVariable;
    captures.push(parts.slice(v.start, v.end));
  }
  return captures;
}

const identStart = /[A-Za-z_]/;
const identChar = /[A-Za-z0-9_]/;
const literalChar = /[A-Za-z0-9\-._~%]/;

/** TemplateParser is a recursive-descent parser for one template. */
class TemplateParser {
  private pos = 0;
  private readonly segments: TemplateSegment[] = [];
  private readonly variables: TemplateVariable[] = [];
  private readonly seenVariables = new Set<string>();
  private seenDoubleWildcard = false;
  private inVariable = false;

  constructor(private readonly input: string) {}

  parse(): PathTemplate {
    this.expect("/");
    this.parseSegments();
    let verb: string | undefined;
    if (this.peek() === ":") {
      this.pos++;
      verb = this.parseLiteral();
    }
    if (this.pos < this.input.length) {
      this.fail(`unexpected ${JSON.stringify(this.peek())}`);
    }
    let literalPrefixSegments = 0;
    const firstCaptured = this.variables[0]?.start ?? this.segments.length;
    while (
      literalPrefixSegments < firstCaptured &&
      this.segments[literalPrefixSegments]?.kind === "literal"
    ) {
      literalPrefixSegments++;
    }
    if (literalPrefixSegments === this.segments.length) literalPrefixSegments = 0;
    const literalPrefix =
      literalPrefixSegments === 0
        ? ""
        : `/${this.segments
            .slice(0, literalPrefixSegments)
            .map((s) => (s.kind === "literal" ? s.value : ""))
            .join("/")}/`;
    return {
      template: this.input,
      segments: this.segments,
      verb,
      variables: this.variables,
      literalPrefix,
      literalPrefixSegments,
    };
  }

  private parseSegments(): void {
    for (;;) {
      this.parseSegment();
      if (this.peek() !== "/") {
        return;
      }
      if (this.seenDoubleWildcard) {
        this.fail("'**' must be the last segment");
      }
      this.pos++;
    }
  }

  private parseSegment(): void {
    const ch = this.peek();
    if (ch === "*") {
      this.pos++;
      if (this.peek() === "*") {
        this.pos++;
        this.seenDoubleWildcard = true;
        this.segments.push({ kind: "double-wildcard" });
      } else {
        this.segments.push({ kind: "wildcard" });
      }
      return;
    }
    if (ch === "{") {
      this.parseVariable();
      return;
    }
    this.segments.push({ kind: "literal", value: this.parseLiteral() });
  }

  private parseVariable(): void {
    if (this.inVariable) {
      this.fail("a variable may not contain another variable");
    }
    this.expect("{");
    const fieldPath = this.parseFieldPath();
    const key = fieldPath.join(".");
    if (this.seenVariables.has(key)) {
      this.fail(`variable ${JSON.stringify(key)} appears twice`);
    }
    this.seenVariables.add(key);
    const start = this.segments.length;
    if (this.peek() === "=") {
      this.pos++;
      this.inVariable = true;
      this.parseSegments();
      this.inVariable = false;
    } else {
      this.segments.push({ kind: "wildcard" });
    }
    this.expect("}");
    this.variables.push({
      fieldPath,
      start,
      end: this.seenDoubleWildcard ? undefined : this.segments.length,
    });
  }

  private parseFieldPath(): string[] {
    const path: string[] = [];
    for (;;) {
      if (!identStart.test(this.peek())) {
        this.fail("expected a field name");
      }
      const begin = this.pos;
      while (identChar.test(this.peek())) {
        this.pos++;
      }
      path.push(this.input.slice(begin, this.pos));
      if (this.peek() !== ".") {
        return path;
      }
      this.pos++;
    }
  }

  private parseLiteral(): string {
    const begin = this.pos;
    while (literalChar.test(this.peek())) {
      this.pos++;
    }
    if (this.pos === begin) {
      this.fail(
        this.pos < this.input.length
          ? `unexpected ${JSON.stringify(this.peek())}`
          : "unexpected end, expected a path segment",
      );
    }
    const canonical = canonicalizePathSegment(this.input.slice(begin, this.pos));
    if (canonical === undefined) {
      this.pos = begin;
      this.fail("malformed percent-encoding");
    }
    return canonical;
  }

  /** peek returns the current character, or "" at the end. */
  private peek(): string {
    return this.input.charAt(this.pos);
  }

  private expect(ch: string): void {
    if (this.peek() !== ch) {
      const got = this.pos < this.input.length ? JSON.stringify(this.peek()) : "end";
      this.fail(`expected ${JSON.stringify(ch)}, got ${got}`);
    }
    this.pos++;
  }

  private fail(reason: string): never {
    throw new Error(
      `invalid path template ${JSON.stringify(this.input)}: column ${this.pos + 1}: ${reason}`,
    );
  }
}
