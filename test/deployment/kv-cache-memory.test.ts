// num_gpu_blocks from a GPU's memory, set beside what vLLM 0.19 logged at start-up on an H100
// (llm-d-incubation/llm-d-planner, accuracy/results/v0.19.0/logs/, util 0.95, max_num_seqs 1024).
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parameterCount } from "../../src/deployment/model-config.ts";
import { MODEL_PRESETS } from "../../src/deployment/model-presets.ts";
import { parseScenario } from "../../src/scenario/index.ts";

function instance(lines: readonly string[]) {
  return parseScenario(
    [
      ...lines,
      "instances: [{ name: u, role: unified }]",
      "workload: { requests: [{ id: a, at_s: 0, prompt_tokens: 5, max_tokens: 1 }] }",
    ].join("\n"),
    path.resolve("s.yaml"),
  ).instances[0]!;
}

const GiB = 2 ** 30;

describe("the KV cache sized from GPU memory", () => {
  it.each([
    // model, tensor parallel, logged KV cache GiB, logged "GPU KV cache size" tokens
    ["llama-3.1-8b", 1, 58.11, 476_016],
    ["llama-3.1-8b", 2, 63.76, 1_044_688],
    ["qwen3-8b", 1, 57.5, 418_688],
  ] as const)("%s at TP %i comes within 0.5 %% of vLLM's log", (preset, tp, kvGib, tokens) => {
    const u = instance([
      `model: { preset: ${preset} }`,
      "gpu: { preset: h100-sxm }",
      `engine: { gpu_memory_utilization: 0.95, max_num_seqs: 1024, tensor_parallel_size: ${tp} }`,
    ]);
    const memory = u.kv_cache_memory!;
    expect(Math.abs(memory.kvCache / GiB - kvGib) / kvGib).toBeLessThan(0.005);
    const cacheTokens = u.engine.num_gpu_blocks * u.engine.block_size;
    expect(Math.abs(cacheTokens - tokens) / tokens).toBeLessThan(0.005);
  });

  it("leaves a stated num_gpu_blocks alone, and needs both a GPU and a model's shapes", () => {
    expect(
      instance([
        "model: { preset: qwen3-8b }",
        "gpu: { preset: h100-sxm }",
        "engine: { num_gpu_blocks: 1000 }",
      ]),
    ).toMatchObject({ engine: { num_gpu_blocks: 1000 } });
    expect(instance(["gpu: { preset: h100-sxm }"]).kv_cache_memory).toBeUndefined();
    expect(instance(["model: { preset: qwen3-8b }"]).engine.num_gpu_blocks).toBe(8192);
  });

  it("refuses a model that does not fit, saying by how much", () => {
    expect(() => instance(["model: { preset: llama-3.1-70b }", "gpu: { preset: l40s }"])).toThrow(
      /instances\.u: meta-llama\/Llama-3\.1-70B on l40s at tensor_parallel_size 1 does not fit: weights 131\.\d\d GiB and the profiling reserve \d+\.\d\d GiB a GPU exceed its budget of 42\.\d\d GiB \(gpu_memory_utilization 0\.9\) by \d+\.\d\d GiB/,
    );
    // Four L40S hold it: 131 GiB of weights split four ways.
    expect(
      instance([
        "model: { preset: llama-3.1-70b }",
        "gpu: { preset: l40s }",
        "engine: { tensor_parallel_size: 4, max_model_len: 8192 }",
      ]).kv_cache_memory!.kvCache,
    ).toBeGreaterThan(0);
  });
});

describe("FP8 weights (quantization_config.quant_method fp8)", () => {
  it("sizes DeepSeek-V3's projections and experts at one byte, its embeddings at two", () => {
    const u = instance([
      "model: { preset: deepseek-v3 }",
      "gpu: { preset: h200 }",
      "engine: { tensor_parallel_size: 8, max_model_len: 32768 }",
    ]);
    // 129,280 × 7,168 = 926,679,040 parameters each for the embeddings and the output head.
    const embeddings = 2 * 926_679_040;
    const total = parameterCount(MODEL_PRESETS["deepseek-v3"].config).total;
    expect(u.kv_cache_memory!.weights).toBe((embeddings * 2 + (total - embeddings)) / 8);
    // About 84 GB a GPU: it fits eight H200s, which its 1.34 TB in BF16 would not.
    expect(u.kv_cache_memory!.weights / 1e9).toBeCloseTo(84.1, 1);
    expect(u.kv_cache_memory!.kvCache).toBeGreaterThan(0);
  });
});
