import { defineConfig } from "vitest/config";

// `npm run test:interop`: the tests that drive real system tools against the
// gateway (curl --aws-sigv4, Debian's botocore). The global setup fails the
// run, naming the package to install, when a tool is missing: a missing tool
// is a failure, never a skip.
export default defineConfig({
  test: {
    include: ["test/interop/**/*.test.ts"],
    globalSetup: ["test/interop/require-tools.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
