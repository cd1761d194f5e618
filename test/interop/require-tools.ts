import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The Python that sees Debian's packages (a pyenv `python3` on PATH may not). */
export const debianPython = "/usr/bin/python3";

/** Debian's aws CLI (a pyenv `aws` on PATH may shadow it). */
export const awsCli = "/usr/bin/aws";

/** Each system tool the interop tests drive, how to check it, and the Debian package that brings it. */
const tools: { name: string; check: () => Promise<unknown>; install: string }[] = [
  {
    // --aws-sigv4 needs curl 7.75+; the TLS and h2c tests need its HTTP2 feature.
    name: "curl 7.75+ with HTTP2",
    check: async () => {
      const { stdout } = await run("curl", ["--version"]);
      const [major = 0, minor = 0] = (/^curl (\d+)\.(\d+)/.exec(stdout) ?? []).slice(1).map(Number);
      if (major < 7 || (major === 7 && minor < 75)) throw new Error(`too old: ${stdout}`);
      if (!/^Features:.*\bHTTP2\b/m.test(stdout)) throw new Error("no HTTP2 feature");
    },
    install: "curl",
  },
  {
    name: `botocore for ${debianPython}`,
    check: () => run(debianPython, ["-c", "import botocore"]),
    install: "python3-botocore",
  },
  {
    name: `grpcio and protobuf for ${debianPython} (docs/client.md's Python example)`,
    check: () => run(debianPython, ["-c", "import grpc, google.protobuf"]),
    install: "python3-grpcio python3-protobuf",
  },
  {
    // The AWS KMS API walks (test/interop/aws-*.test.ts): Debian's aws CLI v2, boto3 and
    // cryptography (the AWS Encryption SDK pattern's local AES-GCM).
    name: `the aws CLI at ${awsCli}`,
    check: () => run(awsCli, ["--version"]),
    install: "awscli",
  },
  {
    name: `boto3 and cryptography for ${debianPython}`,
    check: () => run(debianPython, ["-c", "import boto3, cryptography"]),
    install: "python3-boto3 python3-cryptography",
  },
];

/**
 * setup (vitest's global setup) fails the whole interop run, naming what to
 * install, when a system tool is missing: a missing tool must fail the run,
 * never skip the tests that need it.
 */
export default async function setup(): Promise<void> {
  const missing: string[] = [];
  for (const tool of tools) {
    try {
      await tool.check();
    } catch (err) {
      missing.push(`${tool.name} (apt-get install ${tool.install}): ${(err as Error).message}`);
    }
  }
  if (missing.length > 0) {
    throw new Error(
      `npm run test:interop needs system tools that are missing:\n${missing.join("\n")}`,
    );
  }
}
