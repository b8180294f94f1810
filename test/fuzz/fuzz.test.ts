// A slice of the fuzz corpus on every `npm test`; test/slow/fuzz.test.ts runs all 300 cases.
import { describe, it } from "vitest";
import { fuzzCorpus } from "./fuzz-corpus.ts";

describe("a slice of the fuzz corpus", () => {
  it("ends each of 24 mutated scenarios in exit 0, 1 or 2, with no stack trace", async () => {
    await fuzzCorpus({ cases: 24, seed: 5, limitMs: 10_000 });
  }, 300_000);
});
