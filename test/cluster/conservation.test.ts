// Nothing is lost and nothing leaks: every request that arrives finishes exactly once, and a
// drained cluster holds no KV blocks.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  expectDrained,
  expectEveryRequestFinishedOnce,
  runCluster,
  sampleOf,
  scenarioFrom,
} from "./helpers.ts";
import { propertyParamsWithRuns } from "../support/property.ts";

const QUIET_ENGINE = { log_stats_interval_s: 1 };

describe("every request finishes exactly once and the block pools drain", () => {
  it("holds for explicit requests with a shared prefix, a repeated prompt and prompts that do not fit", () => {
    const scenario = scenarioFrom({
      seed: 1,
      engine: { ...QUIET_ENGINE, block_size: 16, num_gpu_blocks: 64, max_model_len: 512 },
      instances: [{ name: "unified-0", role: "unified" }],
      workload: {
        requests: [
          {
            id: "a",
            at_s: 0,
            prompt_tokens: 100,
            prefix: { group: "sys", tokens: 64 },
            max_tokens: 8,
          },
          {
            id: "b",
            at_s: 0,
            prompt_tokens: 120,
            prefix: { group: "sys", tokens: 64 },
            max_tokens: 8,
          },
          { id: "c", at_s: 0.5, prompt_from: "a", max_tokens: 4 },
          { id: "d", at_s: 0.5, prompt_tokens: 600, max_tokens: 4 },
          { id: "e", at_s: 1, prompt_tokens: 1, max_tokens: 1 },
          // Fills max_model_len, so no room is left for an output token: refused as well.
          { id: "f", at_s: 1, prompt_tokens: 512, max_tokens: 1 },
          { id: "g", at_s: 1, prompt_tokens: 511, max_tokens: 5 },
        ],
      },
    });
    const run = runCluster(scenario);
    expectEveryRequestFinishedOnce(run, scenario, scenario.seed);
    expectDrained(run);
    const reasons = Object.fromEntries(run.records.map((r) => [r.id, r.finish_reason]));
    expect(reasons).toEqual({
      a: "length",
      b: "length",
      c: "length",
      d: "error",
      e: "length",
      f: "error",
      g: "length",
    });
  });

  it("holds under preemption pressure: tiny num_gpu_blocks and many concurrent requests", () => {
    // 40 requests of up to 150 tokens at once, on 17 usable blocks of 16 tokens: at most two
    // whole sequences fit, so decode growth keeps preempting.
    const scenario = scenarioFrom({
      seed: 5,
      engine: {
        ...QUIET_ENGINE,
        block_size: 16,
        num_gpu_blocks: 18,
        max_model_len: 256,
        max_num_seqs: 16,
        max_num_batched_tokens: 256,
      },
      instances: [{ name: "unified-0", role: "unified" }],
      workload: {
        num_requests: 40,
        arrival: { process: "constant", interval_s: 0.001 },
        prompt_tokens: { dist: "uniform", min: 20, max: 90 },
        max_tokens: { dist: "uniform", min: 30, max: 60 },
        shared_prefix: { groups: 2, tokens: 32, probability: 0.5 },
      },
    });
    const run = runCluster(scenario);
    expectEveryRequestFinishedOnce(run, scenario, scenario.seed);
    expectDrained(run);
    expect(sampleOf(run, "unified-0", "vllm:num_preemptions_total")).toBeGreaterThan(0);
    expect(run.records.some((r) => r.legs[0]!.num_preemptions > 0)).toBe(true);
  });

  it("holds over three instances with different engines under least_loaded routing", () => {
    const scenario = scenarioFrom({
      seed: 9,
      engine: { ...QUIET_ENGINE, block_size: 8, num_gpu_blocks: 40, max_model_len: 256 },
      instances: [
        { name: "u0", role: "unified" },
        { name: "u1", role: "unified", engine: { block_size: 32, num_gpu_blocks: 9 } },
        { name: "u2", role: "unified", engine: { enable_prefix_caching: false, max_num_seqs: 2 } },
      ],
      proxy: { unified_policy: "least_loaded" },
      workload: {
        num_requests: 60,
        arrival: { process: "poisson", rate_per_s: 200 },
        prompt_tokens: { dist: "lognormal", mean: 100, sigma: 0.8, min: 1, max: 300 },
        max_tokens: { dist: "uniform", min: 1, max: 40 },
        output_tokens: { dist: "uniform", min: 1, max: 40 },
        shared_prefix: { groups: 3, tokens: 48, probability: 0.6 },
      },
    });
    const run = runCluster(scenario);
    expectEveryRequestFinishedOnce(run, scenario, scenario.seed);
    expectDrained(run);
    const reasons = new Set(run.records.map((r) => r.finish_reason));
    expect([...reasons].sort()).toEqual(["error", "length", "stop"]);
  });

  it("holds for any small generated workload with num_gpu_blocks just above the minimum", () => {
    const params = fc.record({
      seed: fc.nat({ max: 1_000_000 }),
      blockSize: fc.constantFrom(1, 2, 4, 8, 16, 32),
      maxModelLen: fc.integer({ min: 8, max: 256 }),
      spareBlocks: fc.integer({ min: 0, max: 3 }),
      maxNumSeqs: fc.integer({ min: 1, max: 8 }),
      batchedTokensOverSeqs: fc.integer({ min: 0, max: 256 }),
      prefixCaching: fc.boolean(),
      numRequests: fc.integer({ min: 1, max: 25 }),
      ratePerS: fc.integer({ min: 1, max: 2000 }),
      promptMin: fc.integer({ min: 1, max: 300 }),
      promptSpan: fc.integer({ min: 0, max: 200 }),
      maxTokens: fc.integer({ min: 1, max: 64 }),
      sharedPrefixTokens: fc.integer({ min: 1, max: 128 }),
      sharedPrefixProbability: fc.double({ min: 0, max: 1, noNaN: true }),
      numInstances: fc.integer({ min: 1, max: 3 }),
      policy: fc.constantFrom("round_robin", "least_loaded", "prefix_aware"),
    });
    fc.assert(
      fc.property(params, (p) => {
        // vLLM's minimum: one max_model_len sequence plus the null block.
        const numGpuBlocks = Math.ceil(p.maxModelLen / p.blockSize) + 1 + p.spareBlocks;
        const scenario = scenarioFrom({
          seed: p.seed,
          engine: {
            ...QUIET_ENGINE,
            block_size: p.blockSize,
            num_gpu_blocks: numGpuBlocks,
            max_model_len: p.maxModelLen,
            max_num_seqs: p.maxNumSeqs,
            max_num_batched_tokens: p.maxNumSeqs + p.batchedTokensOverSeqs,
            enable_prefix_caching: p.prefixCaching,
          },
          instances: Array.from({ length: p.numInstances }, (_, i) => ({
            name: `unified-${i}`,
            role: "unified",
          })),
          proxy: { unified_policy: p.policy },
          workload: {
            num_requests: p.numRequests,
            arrival: { process: "poisson", rate_per_s: p.ratePerS },
            prompt_tokens: { dist: "uniform", min: p.promptMin, max: p.promptMin + p.promptSpan },
            max_tokens: { dist: "uniform", min: 1, max: p.maxTokens },
            shared_prefix: {
              groups: 2,
              // A prompt shorter than the prefix is the prefix's first tokens either way.
              tokens: Math.min(p.sharedPrefixTokens, p.promptMin + p.promptSpan),
              probability: p.sharedPrefixProbability,
            },
          },
        });
        const run = runCluster(scenario);
        expectEveryRequestFinishedOnce(run, scenario, p.seed);
        expectDrained(run);
      }),
      propertyParamsWithRuns(100),
    );
  });
});
