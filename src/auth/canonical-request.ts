import { hash } from "node:crypto";
import { encodeRfc3986, percentDecode } from "./percent-encoding.js";

/** HeaderValue is a request header as Node gives it. */
export type HeaderValue = string | string[] | undefined;

/** mapSegments applies fn to each `/`-separated segment, or returns undefined if fn does. */
function mapSegments(path: string, fn: (s: string) => string | undefined): string | undefined {
  const out: string[] = [];
  for (const segment of path.split("/")) {
    const mapped = fn(segment);
    if (mapped === undefined) return undefined;
    out.push(mapped);
  }
  return out.join("/");
}

/**
 * canonicalUris yields the canonical URIs a client may have signed for rawPath (the path as
 * received, still percent-encoded), most likely first, without duplicates, and lazily so a
 * matching first candidate costs nothing more: the path exactly as sent (S3-style signers,
 * curl), each segment decoded and re-encoded per RFC 3986 (normalized single encoding), and
 * the double encoding non-S3 signers use (of the normalized and of the raw path). Dot segments
 * are deliberately not removed: the signature must cover the path the router will see.
 */
export function* canonicalUris(rawPath: string): Generator<string, void, undefined> {
  const path = rawPath === "" ? "/" : rawPath;
  const seen = new Set<string>([path]);
  yield path;
  const single = mapSegments(path, (s) => {
    const bytes = percentDecode(s);
    return bytes && encodeRfc3986(bytes);
  });
  // A normalized path holds only unreserved characters and %XX, so encoding it again only
  // turns each `%` into `%25`.
  const rest = [single, single?.replaceAll("%", "%25"), mapSegments(path, (s) => encodeRfc3986(s))];
  for (const uri of rest) {
    if (uri === undefined || seen.has(uri)) continue;
    seen.add(uri);
    yield uri;
  }
}

/** splitQuery splits a raw query string (without `?`) into undecoded key/value pairs. */
export function splitQuery(rawQuery: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  if (rawQuery === "") return pairs;
  for (const part of rawQuery.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    pairs.push(eq < 0 ? [part, ""] : [part.slice(0, eq), part.slice(eq + 1)]);
  }
  return pairs;
}

/**
 * canonicalQuery decodes each pair, RFC 3986-encodes it again and sorts by key then value,
 * leaving out pairs whose encoded key is `omit` (X-Amz-Signature when presigned).
 * It returns undefined when a pair is not valid percent-encoding. plusAsSpace chooses how a
 * literal `+` is read, since clients disagree on it.
 */
export function canonicalQuery(
  pairs: ReadonlyArray<readonly [string, string]>,
  options: { plusAsSpace?: boolean; omit?: string } = {},
): string | undefined {
  const encoded: Array<[string, string]> = [];
  for (const [rawKey, rawValue] of pairs) {
    const key = percentDecode(rawKey, options.plusAsSpace);
    const value = percentDecode(rawValue, options.plusAsSpace);
    if (key === undefined || value === undefined) return undefined;
    const encodedKey = encodeRfc3986(key);
    if (encodedKey === options.omit) continue;
    encoded.push([encodedKey, encodeRfc3986(value)]);
  }
  // Encoded strings are ASCII, so code-unit order is the byte order SigV4 asks for.
  encoded.sort((a, b) =>
    a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0,
  );
  return encoded.map(([k, v]) => `${k}=${v}`).join("&");
}

/**
 * collapse trims a header value and folds runs of spaces and tabs into one space. Most
 * values have nothing to fold, which includes() (a native search, several times faster
 * than a loop over the characters here) tells without building a new string.
 */
function collapse(value: string): string {
  const clean =
    value.length === 0 ||
    (value.charCodeAt(0) !== 0x20 &&
      value.charCodeAt(value.length - 1) !== 0x20 &&
      !value.includes("\t") &&
      !value.includes("  "));
  return clean ? value : value.replace(/[ \t]+/g, " ").replace(/^ | $/g, "");
}

/**
 * canonicalHeaderValue trims the value, collapses inner whitespace, and joins repeated
 * values with `,`.
 */
export function canonicalHeaderValue(value: string | readonly string[]): string {
  return typeof value === "string" ? collapse(value) : value.map(collapse).join(",");
}

/**
 * canonicalHeaders returns the canonical header block (one `name:value\n` line per signed
 * header, in the signed order), or undefined when a signed header is absent. Over HTTP/2
 * `host` is read from `:authority`.
 */
export function canonicalHeaders(
  headers: Readonly<Record<string, HeaderValue>>,
  signedHeaders: readonly string[],
): string | undefined {
  let block = "";
  for (let i = 0; i < signedHeaders.length; i++) {
    const name = signedHeaders[i] as string;
    // The names come from the client and Node's HTTP/1 header object has Object.prototype:
    // a signed `constructor` or `__proto__` must read as absent, not as a prototype member.
    // Header values are strings (or arrays of them) and Object.prototype holds neither, so
    // only an array needs the own-property check.
    let own = headers[name];
    if (typeof own !== "string" && !(Array.isArray(own) && Object.hasOwn(headers, name))) {
      own = undefined;
    }
    const value = own ?? (name === "host" ? headers[":authority"] : undefined);
    if (value === undefined) return undefined;
    block += `${name}:${typeof value === "string" ? collapse(value) : canonicalHeaderValue(value)}\n`;
  }
  return block;
}

/** CanonicalRequestParts are the already-canonical pieces of a canonical request. */
export interface CanonicalRequestParts {
  method: string;
  uri: string;
  query: string;
  headers: string;
  signedHeaders: string;
  payloadHash: string;
}

/** canonicalRequest joins the canonical parts in SigV4 order. */
export function canonicalRequest(p: CanonicalRequestParts): string {
  return `${p.method}\n${p.uri}\n${p.query}\n${p.headers}\n${p.signedHeaders}\n${p.payloadHash}`;
}

/** stringToSign returns the SigV4 string to sign for a canonical request. */
export function stringToSign(amzDate: string, scope: string, canonical: string): string {
  return `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${hash("sha256", canonical, "hex")}`;
}
