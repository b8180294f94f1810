// The slow suites (`npm run test:slow`, also run by .ci/run): timed benchmark runs in fresh
// processes, bench-small's output digest, and `pdsim check` over the whole scenario library.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/slow/**/*.test.ts"],
    testTimeout: 180_000,
  },
});
