import { describe, expect, it } from "vitest";
import { parseSigV4Auth } from "../../src/auth/parse-sigv4-auth.js";

// parseSigV4Auth remembers the last Credential and SignedHeaders values it parsed (a client
// repeats both request after request). These tests interleave values so every answer comes
// from a hit or a miss of that memory, and check each against what the value alone says.

const signature = "a".repeat(64);
const date = "20261202T052000Z";

function headers(credential: string, signedHeaders: string): Record<string, string> {
  return {
    authorization: `AWS4-HMAC-SHA256 Credential=${credential}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
    "x-amz-date": date,
  };
}

const alice = "alice/20261202/us-east-1/s3/aws4_request";
const bob = "bob/with/slashes/20261202/eu-west-1/kms/aws4_request";

describe("parseSigV4Auth with repeated and alternating credentials", () => {
  it("gives each request the scope of its own credential, whatever came before", () => {
    const sequence = [alice, alice, bob, alice, bob, bob];
    for (const credential of sequence) {
      const result = parseSigV4Auth(headers(credential, "host;x-amz-date"), []);
      if (!result.ok) throw new Error(result.reason);
      const expected =
        credential === alice
          ? { accessKey: "alice", region: "us-east-1", service: "s3" }
          : { accessKey: "bob/with/slashes", region: "eu-west-1", service: "kms" };
      expect(result.auth).toMatchObject({
        ...expected,
        scope: `20261202/${expected.region}/${expected.service}/aws4_request`,
      });
    }
  });

  it("refuses a malformed credential between good ones, and still accepts the good one after", () => {
    const bad = "alice/20261202/us-east-1/s3/aws5_request";
    const answers = [alice, bad, bad, alice].map((c) =>
      parseSigV4Auth(headers(c, "host;x-amz-date"), []),
    );
    expect(answers.map((a) => a.ok)).toEqual([true, false, false, true]);
    expect(answers[1]).toEqual({ ok: false, reason: "malformed authorization header" });
  });

  it("checks each signed header list on its own: a repeat, a duplicate and a list without host", () => {
    const lists = [
      "host;x-amz-date",
      "host;host",
      "host;x-amz-date",
      "x-amz-date",
      "host;x-amz-date",
    ];
    const answers = lists.map((list) => parseSigV4Auth(headers(alice, list), []));
    expect(answers.map((a) => (a.ok ? a.auth.signedHeaderNames.join(";") : a.reason))).toEqual([
      "host;x-amz-date",
      "malformed authorization header",
      "host;x-amz-date",
      "host header must be signed",
      "host;x-amz-date",
    ]);
  });

  it("hands out a remembered header list that no caller can change for the next request", () => {
    const first = parseSigV4Auth(headers(alice, "host;x-amz-date"), []);
    if (!first.ok) throw new Error(first.reason);
    expect(Object.isFrozen(first.auth.signedHeaderNames)).toBe(true);
    expect(() => (first.auth.signedHeaderNames as string[]).push("x-evil")).toThrow(TypeError);
    const second = parseSigV4Auth(headers(alice, "host;x-amz-date"), []);
    if (!second.ok) throw new Error(second.reason);
    expect(second.auth.signedHeaderNames).toEqual(["host", "x-amz-date"]);
  });

  it("still refuses a credential date that differs from X-Amz-Date on a remembered credential", () => {
    const other = "alice/20261201/us-east-1/s3/aws4_request";
    expect(parseSigV4Auth(headers(other, "host"), []).ok).toBe(false);
    expect(parseSigV4Auth(headers(other, "host"), [])).toEqual({
      ok: false,
      reason: "credential date does not match x-amz-date",
    });
  });
});

// parseSigV4Auth also remembers the last Authorization header less its 64-digit signature
// (a client sends the same prefix with a new signature each time). Each answer below is
// checked against the same header parsed right after an unrelated one, which cannot hit.
describe("parseSigV4Auth with a remembered Authorization prefix", () => {
  const prefix = `AWS4-HMAC-SHA256 Credential=${alice}, SignedHeaders=host;x-amz-date, Signature=`;
  const fresh = (authorization: string) => {
    parseSigV4Auth({ authorization: "AWS4-HMAC-SHA256 Credential=x", "x-amz-date": date }, []);
    return parseSigV4Auth({ authorization, "x-amz-date": date }, []);
  };
  const afterPrefix = (first: string, authorization: string) => {
    parseSigV4Auth({ authorization: first, "x-amz-date": date }, []);
    return parseSigV4Auth({ authorization, "x-amz-date": date }, []);
  };
  const shown = (r: ReturnType<typeof parseSigV4Auth>) =>
    r.ok ? `ok ${r.auth.accessKey} ${r.auth.signature.toString("hex")}` : r.reason;

  it("answers a new signature under the same prefix as a fresh parse does", () => {
    const tails = [
      "b".repeat(64), // a hit
      "ABCDEF0123456789".repeat(4), // upper case: decoded, not refused
      `${"c".repeat(62)}zz`, // not hex
      `${"c".repeat(60)}, Cr`, // a comma: another field
      `${"c".repeat(63)} `, // trailing space: trimmed to 63 digits
      `, Signature=${"d".repeat(52)}`, // the field twice
    ];
    for (const tail of tails) {
      const got = afterPrefix(`${prefix}${"a".repeat(64)}`, `${prefix}${tail}`);
      expect(shown(got), tail).toBe(shown(fresh(`${prefix}${tail}`)));
    }
    expect(shown(afterPrefix(`${prefix}${"a".repeat(64)}`, `${prefix}${"b".repeat(64)}`))).toBe(
      `ok alice ${"b".repeat(64)}`,
    );
  });

  it("does not remember a prefix whose last field is not the signature", () => {
    // The signature first and the credential last: a later header sharing all but the
    // last 64 characters differs in its credential, not in its signature.
    const reordered = `AWS4-HMAC-SHA256 Signature=${"a".repeat(64)}, SignedHeaders=host;x-amz-date, Credential=${alice}`;
    const first = fresh(reordered);
    expect(shown(first)).toBe(`ok alice ${"a".repeat(64)}`);
    const other = `${reordered.slice(0, -64)}${"e".repeat(64)}`;
    expect(shown(afterPrefix(reordered, other))).toBe(shown(fresh(other)));
  });

  it("keeps the refusal order of a prefix that fails a later check (host not signed)", () => {
    const noHost = `AWS4-HMAC-SHA256 Credential=${alice}, SignedHeaders=x-amz-date, Signature=`;
    expect(shown(fresh(`${noHost}${"a".repeat(64)}`))).toBe("host header must be signed");
    const commaTail = `${"c".repeat(60)}, Cr`;
    const got = afterPrefix(`${noHost}${"a".repeat(64)}`, `${noHost}${commaTail}`);
    expect(shown(got)).toBe("malformed authorization header");
    expect(shown(got)).toBe(shown(fresh(`${noHost}${commaTail}`)));
  });
});
