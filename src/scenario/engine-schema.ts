// The engine keys of a scenario (`engine:` at the top and per instance) and the settings every
// instance starts from.
import { z } from "zod";
import { flag, nonNegativeInt, periodSeconds, positiveInt } from "./primitives.ts";
import type { EngineConfig } from "./types.ts";

/** The engine settings every instance starts from. */
export const DEFAULT_ENGINE: Readonly<EngineConfig> = Object.freeze({
  block_size: 16,
  num_gpu_blocks: 8192,
  max_model_len: 8192,
  max_num_batched_tokens: 8192,
  max_num_seqs: 256,
  enable_prefix_caching: true,
  enable_chunked_prefill: true,
  long_prefill_token_threshold: 0, // 0 = off
  log_stats_interval_s: 10,
  gpu_memory_utilization: 0.9,
  tensor_parallel_size: 1,
});

/** vLLM 0.19's --block-size choices (BlockSize in vllm/config/cache.py): all vllm_args takes. */
export const VLLM_BLOCK_SIZES: readonly number[] = [1, 8, 16, 32, 64, 128, 256];
/** Powers of two from 1 to 256: vLLM's block sizes, and 2 and 4 for small worked examples. */
export const BLOCK_SIZES: readonly number[] = [1, 2, 4, 8, 16, 32, 64, 128, 256];
export const MAX_GPU_BLOCKS = 4_194_304;
/** Ten million tokens: the longest contexts models offer, well within memory for token ids. */
export const MAX_MODEL_LEN = 10_000_000;

/** Every key optional: it overrides what the level above set. */
export const engineSchema = z.strictObject({
  // vLLM's CacheConfig takes 1, 8, 16, 32, 64, 128 or 256; 2 and 4 keep worked examples small.
  block_size: z
    .int()
    .superRefine((b, ctx) => {
      if (BLOCK_SIZES.includes(b)) return;
      ctx.addIssue({
        code: "custom",
        message: `expected a block size vLLM takes (1, 8, 16, 32, 64, 128, 256; pdsim also takes 2 and 4), got ${b}`,
      });
    })
    .optional(),
  // One block is vLLM's reserved null block, so one is never enough. Each block costs pdsim 32
  // bytes of block table: the cap keeps an instance's table within 128 MiB.
  num_gpu_blocks: z
    .int()
    .min(2)
    .max(MAX_GPU_BLOCKS)
    .describe(`an integer from 2 to ${MAX_GPU_BLOCKS}`)
    .optional(),
  max_model_len: z
    .int()
    .min(1)
    .max(MAX_MODEL_LEN)
    .describe(`an integer from 1 to ${MAX_MODEL_LEN}`)
    .optional(),
  max_num_batched_tokens: positiveInt.optional(),
  max_num_seqs: positiveInt.optional(),
  enable_prefix_caching: flag.optional(),
  enable_chunked_prefill: flag.optional(),
  long_prefill_token_threshold: nonNegativeInt.optional(),
  log_stats_interval_s: periodSeconds.optional(),
  // Read only with a gpu and a model preset or config.json, to size the cache from memory.
  gpu_memory_utilization: z
    .number()
    .gt(0)
    .max(1)
    .describe("a fraction above 0 and at most 1")
    .optional(),
  tensor_parallel_size: z.int().min(1).max(64).describe("an integer from 1 to 64").optional(),
});

export type EngineOverride = z.output<typeof engineSchema>;
