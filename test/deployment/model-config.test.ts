import { describe, expect, it } from "vitest";
import {
  kvBytesPerToken,
  parameterCount,
  readModelConfig,
} from "../../src/deployment/model-config.ts";

/** A config from config.json fields, checked as the loader checks one. */
function model(fields: Record<string, unknown>) {
  const read = readModelConfig(fields);
  if (!("config" in read)) throw new Error(read.problems.join("; "));
  return read.config;
}

const common = { intermediate_size: 11008, vocab_size: 32000, torch_dtype: "bfloat16" };

describe("KV cache bytes per token, as vLLM sizes its cache", () => {
  it("grouped-query attention: layers × 2 (K and V) × KV heads × head_dim × element", () => {
    // 36 layers, 8 KV heads of 128: 36 × 2 × 8 × 128 = 73,728 elements.
    const gqa = model({
      ...common,
      hidden_size: 4096,
      num_hidden_layers: 36,
      num_attention_heads: 32,
      num_key_value_heads: 8,
      head_dim: 128,
    });
    expect(kvBytesPerToken(gqa, "auto")).toBe(73_728 * 2); // bf16: 147,456
    expect(kvBytesPerToken(gqa, "fp8")).toBe(73_728); // fp8: one byte each
  });

  it("multi-head attention: no num_key_value_heads, head_dim = hidden_size / heads", () => {
    // 32 layers, 32 heads of 4096 / 32 = 128: 32 × 2 × 32 × 128 = 262,144 elements.
    const mha = model({
      ...common,
      hidden_size: 4096,
      num_hidden_layers: 32,
      num_attention_heads: 32,
    });
    expect(kvBytesPerToken(mha, "auto")).toBe(262_144 * 2); // 524,288
    expect(kvBytesPerToken(mha, "fp8")).toBe(262_144);
    expect(kvBytesPerToken({ ...mha, torch_dtype: "float32" }, "auto")).toBe(262_144 * 4);
  });

  it("multi-head latent attention: one latent of kv_lora_rank + qk_rope_head_dim a layer", () => {
    // DeepSeek-V3's shapes: 61 layers × (512 + 64) = 35,136 elements, no separate K and V.
    const mla = model({
      ...common,
      hidden_size: 7168,
      num_hidden_layers: 61,
      num_attention_heads: 128,
      num_key_value_heads: 128,
      kv_lora_rank: 512,
      qk_rope_head_dim: 64,
      qk_nope_head_dim: 128,
      v_head_dim: 128,
      q_lora_rank: 1536,
    });
    expect(kvBytesPerToken(mla, "auto")).toBe(35_136 * 2); // 70,272
    expect(kvBytesPerToken(mla, "fp8")).toBe(35_136);
  });
});

describe("a config.json that lacks what pdsim needs", () => {
  it("names every missing or malformed field", () => {
    expect(readModelConfig({ hidden_size: 64, num_attention_heads: "8" })).toEqual({
      problems: [
        "intermediate_size is missing",
        "num_hidden_layers is missing",
        'num_attention_heads must be a whole number ≥ 0, got "8"',
        "vocab_size is missing",
      ],
    });
    expect(readModelConfig([])).toEqual({
      problems: ["expected a JSON object (a Hugging Face config.json)"],
    });
    const half = readModelConfig({
      ...common,
      hidden_size: 64,
      num_hidden_layers: 2,
      num_attention_heads: 2,
      kv_lora_rank: 16,
    });
    expect(half).toEqual({
      problems: ["kv_lora_rank and qk_rope_head_dim go together (multi-head latent attention)"],
    });
  });
});

describe("quantized weights", () => {
  const shapes = { ...common, hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 2 };

  it("reads quant_method fp8, and refuses a method it does not model", () => {
    const fp8 = readModelConfig({
      ...shapes,
      quantization_config: { quant_method: "fp8", weight_block_size: [128, 128] },
    });
    expect(fp8).toMatchObject({ config: { quantization: "fp8" } });
    expect(readModelConfig({ ...shapes, quantization_config: { quant_method: "awq" } })).toEqual({
      problems: [
        'quantization_config.quant_method "awq" is not one pdsim models: it sizes weights in torch_dtype, or in one byte with quant_method "fp8"',
      ],
    });
  });
});

describe("parameter counts from the config's shapes", () => {
  it("count a dense model's embeddings, attention and MLP", () => {
    // Two layers of hidden 8, 2 heads of 4, 1 KV head, MLP 16, vocab 10, untied head:
    // embeddings 2 × 10 × 8 = 160; attention q 8·8 + k,v 2·8·4 + o 8·8 = 192; MLP 3 · 8 · 16 = 384.
    const tiny = model({
      hidden_size: 8,
      intermediate_size: 16,
      num_hidden_layers: 2,
      num_attention_heads: 2,
      num_key_value_heads: 1,
      head_dim: 4,
      vocab_size: 10,
    });
    expect(parameterCount(tiny)).toEqual({
      total: 160 + 2 * (192 + 384),
      active: 160 + 2 * (192 + 384),
    });
  });

  it("count every expert but activate only num_experts_per_tok of them", () => {
    // As above with 4 experts of MLP 16 (router 8 × 4 = 32), 2 active a token.
    const moe = model({
      hidden_size: 8,
      intermediate_size: 16,
      moe_intermediate_size: 16,
      num_experts: 4,
      num_experts_per_tok: 2,
      num_hidden_layers: 2,
      num_attention_heads: 2,
      num_key_value_heads: 1,
      head_dim: 4,
      vocab_size: 10,
    });
    expect(parameterCount(moe)).toEqual({
      total: 160 + 2 * (192 + 4 * 384 + 32),
      active: 160 + 2 * (192 + 2 * 384 + 32),
    });
  });
});
