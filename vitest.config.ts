import { configDefaults, defineConfig } from "vitest/config";

// `npm test`: everything that needs only Node and the npm packages. The tests
// that drive system tools (curl, botocore) are in test/interop/, run by
// `npm run test:interop` with vitest.interop.config.ts.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: [...configDefaults.exclude, "test/interop/**"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
