import fc from "fast-check";
import { expect, it } from "vitest";
import { renderVllmArgs, type RenderInput } from "../../src/scenario/render-vllm-args.ts";
import { MAX_GPU_BLOCKS, MAX_MODEL_LEN } from "../../src/scenario/schema.ts";
import { VLLM_BLOCK_SIZES } from "../../src/scenario/engine-schema.ts";
import type { EngineConfig } from "../../src/scenario/types.ts";
import { readVllmArgs } from "../../src/scenario/vllm-args.ts";
import { expectReached, propertyParams } from "../support/property.ts";

const engineArb: fc.Arbitrary<Partial<EngineConfig>> = fc.record(
  {
    block_size: fc.constantFrom(...VLLM_BLOCK_SIZES),
    num_gpu_blocks: fc.integer({ min: 2, max: MAX_GPU_BLOCKS }),
    max_model_len: fc.integer({ min: 1, max: MAX_MODEL_LEN }),
    max_num_batched_tokens: fc.integer({ min: 1, max: 1_000_000 }),
    max_num_seqs: fc.integer({ min: 1, max: 4096 }),
    enable_prefix_caching: fc.boolean(),
    enable_chunked_prefill: fc.boolean(),
    long_prefill_token_threshold: fc.integer({ min: 0, max: 100_000 }),
    gpu_memory_utilization: fc.double({ min: 0.01, max: 1, noNaN: true }),
    tensor_parallel_size: fc.integer({ min: 1, max: 64 }),
  },
  { requiredKeys: [] },
);

const nameArb = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 ._/'"-]{0,20}$/);

const inputArb: fc.Arbitrary<RenderInput> = fc.record(
  {
    model: fc.oneof(fc.constantFrom("Qwen/Qwen3-8B", "/models/my model"), nameArb),
    servedName: nameArb,
    engine: engineArb,
    cacheDtype: fc.constantFrom("auto" as const, "fp8" as const),
    kvTransfer: fc.record({
      connector: fc.constantFrom("nixl" as const, "p2p_nccl" as const),
      role: fc.constantFrom("kv_producer" as const, "kv_consumer" as const, "kv_both" as const),
    }),
  },
  { requiredKeys: ["engine"] },
);

it("reads an engine written as a vllm serve command line back as the same engine", () => {
  const runs: Record<"booleanOn" | "booleanOff" | "equalsForm" | "spaceForm", boolean>[] = [];
  fc.assert(
    fc.property(inputArb, fc.boolean(), (input, equals) => {
      const text = renderVllmArgs(input, { equals });
      const read = readVllmArgs(text);
      if (!read.ok) throw new Error(`'${text}' did not read: ${read.messages.join("; ")}`);
      expect(read.args.engine).toEqual(input.engine);
      expect(read.args.model).toBe(input.model);
      expect(read.args.served_model_name ?? read.args.model).toBe(input.servedName ?? input.model);
      expect(read.args.cache_dtype ?? "auto").toBe(input.cacheDtype ?? "auto");
      expect(read.args.kv_transfer).toEqual(input.kvTransfer);
      expect(read.args.ignored).toEqual([]);
      const bools = [input.engine.enable_prefix_caching, input.engine.enable_chunked_prefill];
      runs.push({
        booleanOn: bools.includes(true),
        booleanOff: bools.includes(false),
        equalsForm: equals && text.includes("="),
        spaceForm: !equals && Object.keys(input.engine).length > 0,
      });
    }),
    propertyParams,
  );
  expectReached("vllm_args round trip", runs, 0.2);
});
