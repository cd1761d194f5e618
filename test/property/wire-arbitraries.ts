import fc from "fast-check";

// Generators of what arrives on the wire (paths and queries still percent-encoded), shared by
// the property tests of the SigV4 verifier and of the REST transcoder.

const hex = (b: number, lower: boolean): string => {
  const h = b.toString(16).padStart(2, "0");
  return `%${lower ? h : h.toUpperCase()}`;
};

/** unreservedChar is one RFC 3986 unreserved character. */
export const unreservedChar = fc.constantFrom(
  ..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".split(""),
);

/** wellFormedText is any well-formed Unicode string (no lone surrogates), short. */
export const wellFormedText = (maxLength = 12) =>
  fc
    .string({ unit: "grapheme", maxLength })
    .filter((s) => Buffer.from(s, "utf8").toString("utf8") === s);

/**
 * encodedText is a well-formed string encoded the way some client might put it on the wire:
 * encodeURIComponent with upper- or lower-case hex, or every byte escaped.
 */
export const encodedText = (maxLength = 12) =>
  fc.tuple(wellFormedText(maxLength), fc.constantFrom("uri", "lower", "all")).map(([s, how]) => {
    if (how === "all") {
      return [...Buffer.from(s, "utf8")].map((b) => hex(b, false)).join("");
    }
    const encoded = encodeURIComponent(s);
    return how === "lower" ? encoded.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()) : encoded;
  });

/**
 * wirePathSegment is one path segment as some client sends it: unreserved characters,
 * sub-delimiters and `:`/`@` left raw, `%XX` escapes of any byte (also invalid UTF-8), and
 * encoded Unicode. No `/`, `?` or `#`, which a client cannot put raw into one segment.
 */
export const wirePathSegment = fc
  .array(
    fc.oneof(
      { weight: 6, arbitrary: unreservedChar },
      { weight: 2, arbitrary: fc.constantFrom(..."!$&'()*+,;=:@".split("")) },
      {
        weight: 2,
        arbitrary: fc
          .tuple(fc.integer({ min: 0, max: 255 }), fc.boolean())
          .map(([b, lower]) => hex(b, lower)),
      },
      { weight: 1, arbitrary: encodedText(3) },
    ),
    { maxLength: 10 },
  )
  .map((parts) => parts.join(""));

/** noise is an arbitrary string with the characters parsers care about made likely. */
export const noise = (maxLength = 40) =>
  fc.string({
    unit: fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(..."%/=&;,:+ .-_~*{}\t\\?#".split("")) },
      { weight: 2, arbitrary: fc.constantFrom(..."0123456789aAfFxX".split("")) },
      { weight: 3, arbitrary: fc.string({ minLength: 1, maxLength: 1 }) },
      { weight: 1, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) },
    ),
    maxLength,
  });

/** The reasons parseSigV4Auth may give: short, fixed, and never an echo of the input. */
export const PARSE_REASONS = new Set([
  "malformed presigned URL",
  "malformed authorization header",
  "multiple authentication methods",
  "authentication required",
  "unsupported signature algorithm",
  "invalid presigned URL expiry",
  "host header must be signed",
  "missing x-amz-date",
  "malformed x-amz-date",
  "credential date does not match x-amz-date",
]);
