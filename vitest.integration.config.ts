// Tests that need programs from Debian (installed by .ci/run); `npm test` never runs them.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/integration/**/*.test.ts"],
    testTimeout: 120_000,
  },
});
