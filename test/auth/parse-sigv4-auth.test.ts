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
