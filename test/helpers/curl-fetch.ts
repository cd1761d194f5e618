import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { RestAnswer, SignedFetchOptions } from "./signed-fetch.js";
import { restAnswerOf, testCredentials } from "./signed-fetch.js";

const run = promisify(execFile);

/**
 * curlFetch sends one request with the real curl and its own SigV4 signer
 * (`--aws-sigv4`), with the same interface as signedFetch so a test can run
 * one walk with both. curl 7.88 does not sort query parameters before
 * signing, so they are written in sorted order, as a careful script would.
 */
export async function curlFetch(
  baseUrl: string,
  method: string,
  path: string,
  options: Pick<SignedFetchOptions, "body" | "query"> = {},
): Promise<RestAnswer> {
  const query = Object.entries(options.query ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
  const url = new URL(path, baseUrl);
  const search = new URLSearchParams(query).toString();
  const args = [
    "-sS",
    "--aws-sigv4",
    "aws:amz:us-east-1:s3",
    "--user",
    `${testCredentials.accessKeyId}:${testCredentials.secretAccessKey}`,
    "-X",
    method,
    "-D",
    "-",
    `${url.origin}${url.pathname}${search ? `?${search}` : ""}`,
  ];
  if (options.body !== undefined) {
    args.push("-H", "Content-Type: application/json", "--data-binary", options.body);
  }
  const { stdout } = await run("curl", args, { env: { PATH: process.env.PATH ?? "" } });
  const split = stdout.indexOf("\r\n\r\n");
  const head = stdout.slice(0, split).split("\r\n");
  const text = stdout.slice(split + 4);
  const headers = new Headers();
  for (const line of head.slice(1)) {
    const colon = line.indexOf(":");
    headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  return restAnswerOf(Number(head[0]?.split(" ")[1]), headers, text);
}
