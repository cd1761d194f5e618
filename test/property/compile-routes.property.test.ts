import { createContextValues } from "@connectrpc/connect";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileRoutes } from "../../src/rest/compile-routes.js";
import { createRestTranscoder } from "../../src/rest/rest-transcoder.js";
import { fuzzSettings, fuzzTestTimeoutMs } from "../helpers/fuzz-settings.js";
import { type HttpRuleInit, syntheticService } from "../rest/synthetic-service.js";
import { noise, unreservedChar, wellFormedText } from "./wire-arbitraries.js";

// compileRoutes turns google.api.http rules into routes at start-up; whatever a rule says, it
// compiles or throws an Error naming the rule. And the whole REST path, from a rule to the
// message a handler gets: a path variable's value, encoded as a client encodes it, comes back
// exactly (the synthetic service's `t.Req` has a string `id` and a nested `inner.name`).

type Pattern = NonNullable<HttpRuleInit>["pattern"];

const literal = fc.array(unreservedChar, { minLength: 1, maxLength: 5 }).map((c) => c.join(""));

describe("compileRoutes (property)", { timeout: fuzzTestTimeoutMs }, () => {
  it("compiles any rule or throws an Error that names it, never another exception", () => {
    const fieldName = fc.constantFrom(
      "id",
      "flag",
      "names",
      "count",
      "inner",
      "inner.name",
      "inner.nope",
      "ratio",
      "data",
      "items",
      "labels",
      "big_num",
      "bigNum",
      "nope",
    );
    const path = fc.oneof(
      noise(30),
      fc
        .array(
          fc.oneof(
            literal,
            fc.constantFrom("*", "**"),
            fieldName.map((f) => `{${f}}`),
            fc
              .tuple(fieldName, fc.constantFrom("*", "**", "a/*", "a/**", "*/b"))
              .map(([f, p]) => `{${f}=${p}}`),
          ),
          { minLength: 1, maxLength: 4 },
        )
        .chain((parts) =>
          fc
            .option(literal, { nil: undefined })
            .map((verb) => `/${parts.join("/")}${verb === undefined ? "" : `:${verb}`}`),
        ),
    );
    const pattern = fc.oneof(
      fc
        .tuple(fc.constantFrom("get", "put", "post", "delete", "patch"), path)
        .map(([c, value]) => ({ case: c, value }) as Pattern),
      fc
        .tuple(fc.oneof(fc.constantFrom("LIST", "GET", "get"), noise(5)), path)
        .map(([kind, p]) => ({ case: "custom", value: { kind, path: p } }) as Pattern),
      fc.constant(undefined),
    );
    const rule: fc.Arbitrary<NonNullable<HttpRuleInit>> = fc.record({
      pattern,
      body: fc.oneof(fc.constantFrom("", "*", "id", "inner", "labels", "items", "nope"), noise(4)),
      responseBody: fc.constantFrom("", "", "", "id"),
      additionalBindings: fc.array(
        fc.record({ pattern, body: fc.constantFrom("", "*", "inner") }),
        { maxLength: 2 },
      ),
    });
    fc.assert(
      fc.property(rule, rule, fc.boolean(), (a, b, streaming) => {
        const service = syntheticService([
          { name: "A", rule: a, serverStreaming: streaming },
          { name: "B", rule: b },
        ]);
        try {
          const routes = compileRoutes(service);
          for (const route of routes) {
            expect(route.variables).toHaveLength(route.template.variables.length);
          }
        } catch (error) {
          expect(error).toBeInstanceOf(Error);
          expect(error).not.toBeInstanceOf(TypeError);
          expect((error as Error).message).toMatch(
            /^(google\.api\.http rule of t\.S\.[AB]: |conflicting google\.api\.http rules: )/,
          );
        }
      }),
      fuzzSettings(150, 0.1),
    );
  });
});

/** A value of one path variable, with the template pattern that captures it. */
const variableValue = (last: boolean) =>
  fc.oneof(
    // {v} or {v=*}: one segment, any text but `/`, not empty.
    fc
      .tuple(
        fc.constantFrom("", "=*"),
        wellFormedText(10).filter((s) => s !== "" && !s.includes("/")),
      )
      .map(([pattern, value]) => ({ pattern, value, segments: [encodeURIComponent(value)] })),
    // {v=lit/*}: a literal and a segment, captured together as `lit/value`.
    fc
      .tuple(
        literal,
        wellFormedText(8).filter((s) => s !== "" && !s.includes("/")),
      )
      .map(([lit, value]) => ({
        pattern: `=${lit}/*`,
        value: `${lit}/${value}`,
        segments: [lit, encodeURIComponent(value)],
      })),
    // {v=**} (last only): one or more segments, each encoded on its own, joined by `/`.
    ...(last
      ? [
          fc
            .array(
              wellFormedText(6).filter((s) => s !== "" && !s.includes("/")),
              {
                minLength: 1,
                maxLength: 3,
              },
            )
            .map((parts) => ({
              pattern: "=**",
              value: parts.join("/"),
              segments: parts.map(encodeURIComponent),
            })),
        ]
      : []),
  );

describe("REST path variables round-trip (property)", { timeout: fuzzTestTimeoutMs }, () => {
  it("a value encoded into a template's path reaches the handler exactly", async () => {
    const scenario = fc
      .record({
        before: fc.array(literal, { maxLength: 2 }),
        middle: fc.array(literal, { maxLength: 1 }),
        both: fc.boolean(),
        verb: fc.option(literal, { nil: undefined }),
        method: fc.constantFrom("get", "post", "delete"),
      })
      .chain((s) =>
        fc.record({
          s: fc.constant(s),
          // `**` must be the last segment.
          id: variableValue(!s.both && s.middle.length === 0),
          inner: s.both ? variableValue(true) : fc.constant(undefined),
        }),
      );
    await fc.assert(
      fc.asyncProperty(scenario, async ({ s, id, inner }) => {
        const template = [
          ...s.before,
          `{id${id.pattern}}`,
          ...s.middle,
          ...(inner === undefined ? [] : [`{inner.name${inner.pattern}}`]),
        ];
        const verb = s.verb === undefined ? "" : `:${s.verb}`;
        const segments = [
          ...s.before,
          ...id.segments,
          ...s.middle,
          ...(inner === undefined ? [] : inner.segments),
        ];
        const received: unknown[] = [];
        const transcoder = createRestTranscoder({
          service: syntheticService([
            {
              name: "M",
              rule: { pattern: { case: s.method, value: `/${template.join("/")}${verb}` } },
            },
          ]),
          implementation: {
            m: (req: unknown) => {
              received.push(req);
              return {};
            },
          } as never,
        });
        const res = await transcoder.handle({
          method: s.method.toUpperCase(),
          rawPath: `/${segments.join("/")}${verb}`,
          rawQuery: "",
          headers: new Headers(),
          body: new Uint8Array(0),
          contextValues: createContextValues(),
          signal: new AbortController().signal,
        });
        expect(res.status, res.body).toBe(200);
        expect(received).toHaveLength(1);
        expect(received[0]).toMatchObject({
          id: id.value,
          ...(inner === undefined ? {} : { inner: { name: inner.value } }),
        });
      }),
      fuzzSettings(150, 0.1),
    );
  });
});
