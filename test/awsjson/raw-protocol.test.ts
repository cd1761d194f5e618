import { describe, expect, it } from "vitest";
import { useGateway } from "../helpers/gateway-process.js";
import { signedFetch } from "../helpers/signed-fetch.js";
import { awsJsonFetch } from "./kms-client.js";

// The AWS JSON 1.1 wire protocol itself, byte for byte: what AWS SDKs rely on
// (status, `__type`, `x-amzn-ErrorType`, Content-Length) and what hostile or
// confused clients send (no signature, wrong scope, wrong content type, unknown
// or missing target, bodies too large or not JSON). No error echoes a value.

const gw = useGateway();

function expectAwsShape(
  answer: { status: number; headers: Headers; json: unknown },
  type: string,
  status = 400,
) {
  expect(answer.status).toBe(status);
  expect(answer.headers.get("content-type")).toBe("application/x-amz-json-1.1");
  expect(answer.headers.get("x-amzn-errortype")).toBe(type);
  expect(answer.json).toEqual({ __type: type, message: expect.any(String) });
}

describe("the AWS JSON 1.1 protocol", () => {
  it("answers a call with 200, the AWS content type, a Content-Length and a request id", async () => {
    const answer = await awsJsonFetch(gw.url, "GenerateRandom", '{"NumberOfBytes":8}');
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-type")).toBe("application/x-amz-json-1.1");
    expect(Number(answer.headers.get("content-length"))).toBe(Buffer.byteLength(answer.text));
    expect(answer.headers.get("x-amzn-requestid")).toBe(answer.headers.get("x-request-id"));
    const json = answer.json as { Plaintext: string };
    expect(Buffer.from(json.Plaintext, "base64").byteLength).toBe(8);
  });

  it("names an unknown operation in UnsupportedOperationException", async () => {
    const answer = await awsJsonFetch(gw.url, "CreateGrant", "{}");
    expectAwsShape(answer, "UnsupportedOperationException");
    expect((answer.json as { message: string }).message).toMatch(/^CreateGrant is not supported/);
    const other = await awsJsonFetch(gw.url, null, "{}", {
      headers: { "x-amz-target": "OtherService.CreateKey" },
    });
    expectAwsShape(other, "UnsupportedOperationException");
    // A target that is not a plain name is not echoed back.
    const weird = await awsJsonFetch(gw.url, "<script>secret-123", "{}");
    expectAwsShape(weird, "UnsupportedOperationException");
    expect(weird.text).not.toContain("secret-123");
  });

  it("refuses a missing target and a wrong content type with ValidationException", async () => {
    expectAwsShape(await awsJsonFetch(gw.url, null, "{}"), "ValidationException");
    const json = await awsJsonFetch(gw.url, "ListKeys", "{}", {
      headers: { "content-type": "application/json" },
    });
    expectAwsShape(json, "ValidationException");
    expect((json.json as { message: string }).message).toMatch(/application\/x-amz-json-1\.1/);
  });

  it("refuses unsigned requests and signatures for another service with an AWS error (400)", async () => {
    const unsigned = await awsJsonFetch(gw.url, "ListKeys", "{}", { credentials: null });
    expectAwsShape(unsigned, "MissingAuthenticationTokenException");
    const s3 = await awsJsonFetch(gw.url, "ListKeys", "{}", { service: "s3" });
    expectAwsShape(s3, "InvalidSignatureException");
    const wrongSecret = await awsJsonFetch(gw.url, "ListKeys", "{}", {
      credentials: { accessKeyId: "test-admin", secretAccessKey: "wrong-secret-0123456" },
    });
    expectAwsShape(wrongSecret, "InvalidSignatureException");
  });

  it("refuses bodies that are not JSON objects, never echoing them", async () => {
    const secret = "c2VjcmV0LXZhbHVlLTEyMzQ1";
    const broken = await awsJsonFetch(gw.url, "Encrypt", `{"Plaintext":"${secret}",`);
    expectAwsShape(broken, "SerializationException");
    expectAwsShape(await awsJsonFetch(gw.url, "ListKeys", "[1,2]"), "SerializationException");
    expectAwsShape(
      await awsJsonFetch(gw.url, "ListKeys", `${"[".repeat(40)}${"]".repeat(40)}`),
      "SerializationException",
    );
    const wrongType = await awsJsonFetch(
      gw.url,
      "Encrypt",
      `{"KeyId":"k","Plaintext":{"v":"${secret}"}}`,
    );
    expectAwsShape(wrongType, "ValidationException");
    expect(wrongType.text).not.toContain(secret);
    const badInt = await awsJsonFetch(gw.url, "ListKeys", '{"Limit":"0x10"}');
    expectAwsShape(badInt, "ValidationException");
    const proto = await awsJsonFetch(
      gw.url,
      "Encrypt",
      '{"KeyId":"k","Plaintext":"eA==","EncryptionContext":{"__proto__":"x"}}',
    );
    expectAwsShape(proto, "ValidationException");
  });

  it("ignores unknown members, as AWS services do, and reads AWS's member names only", async () => {
    const answer = await awsJsonFetch(gw.url, "GenerateRandom", '{"NumberOfBytes":4,"Future":1}');
    expect(answer.status).toBe(200);
    // camelCase is not AWS's spelling: the member is unknown, so NumberOfBytes is missing.
    const camel = await awsJsonFetch(gw.url, "GenerateRandom", '{"numberOfBytes":4}');
    expectAwsShape(camel, "ValidationException");
  });

  it("bounds the body at 1 MiB, like REST", async () => {
    const big = JSON.stringify({ KeyId: "k", Plaintext: "A".repeat(1024 * 1024 + 16) });
    const answer = await awsJsonFetch(gw.url, "Encrypt", big);
    expectAwsShape(answer, "ValidationException");
    expect((answer.json as { message: string }).message).toMatch(/exceeds 1 MiB/);
  });

  it("leaves other requests for / to REST, and the admin API as it was", async () => {
    const get = await signedFetch(gw.url, "GET", "/");
    expect(get.status).toBe(404);
    expect(get.json).toMatchObject({ code: "NotFound" });
    const status = await signedFetch(gw.url, "GET", "/rustfs/admin/v3/kms/status");
    expect(status.status).toBe(200);
  });
});
