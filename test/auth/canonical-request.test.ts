import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  canonicalHeaders,
  canonicalHeaderValue,
  canonicalQuery,
  canonicalRequest,
  canonicalUris,
  splitQuery,
  stringToSign,
} from "../../src/auth/canonical-request.js";
import { deriveSigningKey } from "../../src/auth/signing-key-cache.js";

const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/** Vectors from AWS's SigV4 test suite (aws-sig-v4-test-suite, 2015-08-30). */
const AWS_SUITE = {
  secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
  amzDate: "20150830T123600Z",
  scope: "20150830/us-east-1/service/aws4_request",
};

describe("AWS SigV4 test-suite vectors", () => {
  const key = deriveSigningKey(AWS_SUITE.secret, "20150830", "us-east-1", "service");
  const sign = (canonical: string) =>
    createHmac("sha256", key)
      .update(stringToSign(AWS_SUITE.amzDate, AWS_SUITE.scope, canonical))
      .digest("hex");
  const dateHeaders = { host: "example.amazonaws.com", "x-amz-date": AWS_SUITE.amzDate };

  it("get-vanilla", () => {
    const canonical = canonicalRequest({
      method: "GET",
      uri: "/",
      query: canonicalQuery(splitQuery("")) as string,
      headers: canonicalHeaders(dateHeaders, ["host", "x-amz-date"]) as string,
      signedHeaders: "host;x-amz-date",
      payloadHash: EMPTY_SHA256,
    });
    expect(canonical).toBe(
      `GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n${EMPTY_SHA256}`,
    );
    expect(stringToSign(AWS_SUITE.amzDate, AWS_SUITE.scope, canonical)).toBe(
      "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n" +
        "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
    );
    expect(sign(canonical)).toBe(
      "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
    );
  });

  it("get-vanilla-query-order-key-case", () => {
    const query = canonicalQuery(splitQuery("Param2=value2&Param1=value1")) as string;
    expect(query).toBe("Param1=value1&Param2=value2");
    const canonical = canonicalRequest({
      method: "GET",
      uri: "/",
      query,
      headers: canonicalHeaders(dateHeaders, ["host", "x-amz-date"]) as string,
      signedHeaders: "host;x-amz-date",
      payloadHash: EMPTY_SHA256,
    });
    expect(sign(canonical)).toBe(
      "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
    );
  });

  it("get-header-value-trim", () => {
    const headers = { ...dateHeaders, "my-header1": " value1", "my-header2": ' "a   b   c"' };
    const names = ["host", "my-header1", "my-header2", "x-amz-date"];
    const block = canonicalHeaders(headers, names) as string;
    expect(block).toBe(
      'host:example.amazonaws.com\nmy-header1:value1\nmy-header2:"a b c"\nx-amz-date:20150830T123600Z\n',
    );
    const canonical = canonicalRequest({
      method: "GET",
      uri: "/",
      query: "",
      headers: block,
      signedHeaders: names.join(";"),
      payloadHash: EMPTY_SHA256,
    });
    expect(sign(canonical)).toBe(
      "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
    );
  });

  it("get-header-key-duplicate (repeated values joined with a comma)", () => {
    const headers = { ...dateHeaders, "my-header1": ["value2", "value2", "value1"] };
    const names = ["host", "my-header1", "x-amz-date"];
    const block = canonicalHeaders(headers, names) as string;
    expect(block).toContain("my-header1:value2,value2,value1\n");
    const canonical = canonicalRequest({
      method: "GET",
      uri: "/",
      query: "",
      headers: block,
      signedHeaders: names.join(";"),
      payloadHash: EMPTY_SHA256,
    });
    expect(sign(canonical)).toBe(
      "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea",
    );
  });

  it("post-x-www-form-urlencoded", () => {
    const headers = { ...dateHeaders, "content-type": "application/x-www-form-urlencoded" };
    const names = ["content-type", "host", "x-amz-date"];
    const canonical = canonicalRequest({
      method: "POST",
      uri: "/",
      query: "",
      headers: canonicalHeaders(headers, names) as string,
      signedHeaders: names.join(";"),
      // sha256("Param1=value1")
      payloadHash: "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
    });
    expect(canonical).toBe(
      "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\n" +
        "x-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n" +
        "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
    );
    expect(sign(canonical)).toBe(
      "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
    );
  });

  it("get-space (normalize-path)", () => {
    // The suite's request line is `GET /example space/`.
    expect([...canonicalUris("/example space/")]).toContain("/example%20space/");
    const canonical = canonicalRequest({
      method: "GET",
      uri: "/example%20space/",
      query: "",
      headers: canonicalHeaders(dateHeaders, ["host", "x-amz-date"]) as string,
      signedHeaders: "host;x-amz-date",
      payloadHash: EMPTY_SHA256,
    });
    expect(sign(canonical)).toBe(
      "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741",
    );
  });

  it("get-utf8 and get-vanilla-utf8-query", () => {
    // The suite's request line is `GET /\u1234`.
    expect([...canonicalUris("/\u1234")]).toContain("/%E1%88%B4");
    const utf8Path = canonicalRequest({
      method: "GET",
      uri: "/%E1%88%B4",
      query: "",
      headers: canonicalHeaders(dateHeaders, ["host", "x-amz-date"]) as string,
      signedHeaders: "host;x-amz-date",
      payloadHash: EMPTY_SHA256,
    });
    expect(sign(utf8Path)).toBe("8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85");
    const query = canonicalQuery(splitQuery("%e1%88%b4=bar")) as string;
    expect(query).toBe("%E1%88%B4=bar");
    const utf8Query = canonicalRequest({
      method: "GET",
      uri: "/",
      query,
      headers: canonicalHeaders(dateHeaders, ["host", "x-amz-date"]) as string,
      signedHeaders: "host;x-amz-date",
      payloadHash: EMPTY_SHA256,
    });
    expect(sign(utf8Query)).toBe(
      "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04",
    );
  });

  it("post-vanilla-query-nonunreserved", () => {
    const raw = "%40%23%24%25%5E=&%2B=%2F%2C%3F%3E%3C%60%22%3B%3A%5C%7C%5D%5B%7B%7D";
    const query = canonicalQuery(splitQuery(raw)) as string;
    expect(query).toBe("%2B=%2F%2C%3F%3E%3C%60%22%3B%3A%5C%7C%5D%5B%7B%7D&%40%23%24%25%5E=");
    const canonical = canonicalRequest({
      method: "POST",
      uri: "/",
      query,
      headers: canonicalHeaders(dateHeaders, ["host", "x-amz-date"]) as string,
      signedHeaders: "host;x-amz-date",
      payloadHash: EMPTY_SHA256,
    });
    expect(sign(canonical)).toBe(
      "66c82657c86e26fb25238d0e69f011edc4c6df5ae71119d7cb98ed9b87393c1e",
    );
  });
});

describe("canonicalUris", () => {
  it("keeps the path as sent first, then the normalized and double encodings", () => {
    expect([...canonicalUris("/a%20b/c")]).toEqual(["/a%20b/c", "/a%2520b/c"]);
    expect([...canonicalUris("/a%2fb~%7e")]).toEqual([
      "/a%2fb~%7e",
      "/a%2Fb~~",
      "/a%252Fb~~",
      "/a%252fb~%257e",
    ]);
    expect([...canonicalUris("")]).toEqual(["/"]);
  });

  it("encodes reserved and non-ASCII characters sent raw", () => {
    expect([...canonicalUris("/a+b!c")]).toContain("/a%2Bb%21c");
    expect([...canonicalUris("/é")]).toContain("/%C3%A9");
  });

  it("keeps bytes that are not UTF-8 and skips malformed escapes", () => {
    expect([...canonicalUris("/%ff")]).toContain("/%FF");
    expect([...canonicalUris("/%zz")]).toEqual(["/%zz", "/%25zz"]);
  });

  it("does not remove dot segments or empty segments", () => {
    expect([...canonicalUris("/a/../b//c")]).toEqual(["/a/../b//c"]);
  });
});

describe("canonicalQuery", () => {
  it("sorts by key then value and encodes per RFC 3986", () => {
    expect(canonicalQuery(splitQuery("b=2&a=z&a=y&c&a%20b=%7e!"))).toBe(
      "a=y&a=z&a%20b=~%21&b=2&c=",
    );
  });

  it("sorts by encoded bytes, so uppercase comes before lowercase", () => {
    expect(canonicalQuery(splitQuery("a=1&B=2&_=3&~=4"))).toBe("B=2&_=3&a=1&~=4");
  });

  it("reads + as a plus or, on request, as a space", () => {
    expect(canonicalQuery(splitQuery("q=a+b"))).toBe("q=a%2Bb");
    expect(canonicalQuery(splitQuery("q=a+b"), { plusAsSpace: true })).toBe("q=a%20b");
  });

  it("omits X-Amz-Signature when asked and ignores empty pairs", () => {
    expect(
      canonicalQuery(splitQuery("X-Amz-Signature=abc&&x=1&"), { omit: "X-Amz-Signature" }),
    ).toBe("x=1");
  });

  it("returns undefined for malformed percent-encoding", () => {
    expect(canonicalQuery(splitQuery("a=%4"))).toBeUndefined();
  });
});

describe("canonical headers", () => {
  it("trims and collapses whitespace", () => {
    expect(canonicalHeaderValue("  a \t  b  ")).toBe("a b");
    expect(canonicalHeaderValue([" a ", "b  c"])).toBe("a,b c");
  });

  it("reads host from :authority and reports missing headers", () => {
    expect(canonicalHeaders({ ":authority": "h:1" }, ["host"])).toBe("host:h:1\n");
    expect(canonicalHeaders({ host: "h" }, ["host", "x-missing"])).toBeUndefined();
  });

  it("does not read Object.prototype members as headers", () => {
    // Node's HTTP/1 header object is a plain object.
    expect(canonicalHeaders({ host: "h" }, ["constructor", "host"])).toBeUndefined();
    expect(canonicalHeaders({ host: "h" }, ["__proto__", "host"])).toBeUndefined();
  });
});
