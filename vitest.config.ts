import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/integration/**", "test/slow/**"],
    testTimeout: 60_000,
    // vitest's default is one worker fewer than the cores: one worker on a 2-core machine.
    maxWorkers: availableParallelism(),
    // One module graph per worker instead of one per test file: importing the simulator again
    // for each of 70 files cost about 20 s. No test mocks a module, and src/ keeps no state
    // between runs beyond memoized scenario runs (src/docs/facts.ts) and the last tokenizers loaded
    // (src/workload/trace/trace-tokenizer.ts, keyed by their files' contents), both deterministic.
    isolate: false,
  },
});
