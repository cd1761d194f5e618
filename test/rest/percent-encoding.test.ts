import { describe, expect, it } from "vitest";
import {
  canonicalizePathSegment,
  decodePathSegment,
  decodeQueryComponent,
} from "../../src/rest/percent-encoding.js";

describe("canonicalizePathSegment", () => {
  it("decodes unreserved escapes and upper-cases the rest", () => {
    expect(canonicalizePathSegment("clear%2dcache")).toBe("clear-cache");
    expect(canonicalizePathSegment("a%2fb")).toBe("a%2Fb");
    expect(canonicalizePathSegment("a:b")).toBe("a%3Ab");
    expect(canonicalizePathSegment("€")).toBe("%E2%82%AC");
    expect(canonicalizePathSegment("%e2%82%ac")).toBe("%E2%82%AC");
  });

  it("returns undefined for a malformed escape", () => {
    expect(canonicalizePathSegment("a%2")).toBeUndefined();
    expect(canonicalizePathSegment("a%zz")).toBeUndefined();
  });
});

describe("decodePathSegment", () => {
  it("decodes everything in a single-segment capture", () => {
    expect(decodePathSegment("a%2Fb%20c", false)).toBe("a/b c");
  });
  it("keeps %2F in a multi-segment capture", () => {
    expect(decodePathSegment("a%2fb%20c", true)).toBe("a%2Fb c");
  });
  it("throws URIError on malformed escapes and invalid UTF-8", () => {
    expect(() => decodePathSegment("%zz", false)).toThrow(URIError);
    expect(() => decodePathSegment("%C3%28", true)).toThrow(URIError);
  });
});

describe("decodeQueryComponent", () => {
  it("treats + as a space and %2B as a plus", () => {
    expect(decodeQueryComponent("a+b%2Bc")).toBe("a b+c");
  });
  it("throws on a malformed escape", () => {
    expect(() => decodeQueryComponent("%")).toThrow(URIError);
  });
});

describe("canonicalizePathSegment with astral characters", () => {
  it("escapes a raw surrogate pair like its UTF-8 escape", () => {
    expect(canonicalizePathSegment("a😀b")).toBe(canonicalizePathSegment("a%F0%9F%98%80b"));
    expect(canonicalizePathSegment("a😀b")).toBe("a%F0%9F%98%80b");
  });
});
