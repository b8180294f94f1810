// Models pdsim knows by name: the config.json fields it reads, copied from each model's
// Hugging Face repository (the `source` of each; checked field by field against the copies of
// those files in ai-dynamo/aiconfigurator, aic-core/src/aiconfigurator_core/model_configs/), and
// the parameter count its model card or Hugging Face page publishes, beside which
// parameterCount's arithmetic is tested.

import type { ModelConfig } from "./model-config.ts";

export interface ModelPreset {
  /** The Hugging Face repository, the served name by default. */
  huggingFace: string;
  config: ModelConfig;
  /** As the model card gives them, in billions (active: per token, for a mixture of experts). */
  publishedParameters: { total: number; active: number };
  source: string;
}

export const MODEL_PRESETS = {
  "qwen3-0.6b": {
    huggingFace: "Qwen/Qwen3-0.6B",
    config: {
      hidden_size: 1024,
      intermediate_size: 3072,
      num_hidden_layers: 28,
      num_attention_heads: 16,
      num_key_value_heads: 8,
      head_dim: 128,
      vocab_size: 151936,
      torch_dtype: "bfloat16",
      tie_word_embeddings: true,
    },
    publishedParameters: { total: 0.6, active: 0.6 },
    source: "huggingface.co/Qwen/Qwen3-0.6B, config.json and model card",
  },
  "qwen3-8b": {
    huggingFace: "Qwen/Qwen3-8B",
    config: {
      hidden_size: 4096,
      intermediate_size: 12288,
      num_hidden_layers: 36,
      num_attention_heads: 32,
      num_key_value_heads: 8,
      head_dim: 128,
      vocab_size: 151936,
      torch_dtype: "bfloat16",
      tie_word_embeddings: false,
    },
    publishedParameters: { total: 8.2, active: 8.2 },
    source: "huggingface.co/Qwen/Qwen3-8B, config.json and model card",
  },
  "qwen3-32b": {
    huggingFace: "Qwen/Qwen3-32B",
    config: {
      hidden_size: 5120,
      intermediate_size: 25600,
      num_hidden_layers: 64,
      num_attention_heads: 64,
      num_key_value_heads: 8,
      head_dim: 128,
      vocab_size: 151936,
      torch_dtype: "bfloat16",
      tie_word_embeddings: false,
    },
    publishedParameters: { total: 32.8, active: 32.8 },
    source: "huggingface.co/Qwen/Qwen3-32B, config.json and model card",
  },
  "llama-3.1-8b": {
    huggingFace: "meta-llama/Llama-3.1-8B",
    config: {
      hidden_size: 4096,
      intermediate_size: 14336,
      num_hidden_layers: 32,
      num_attention_heads: 32,
      num_key_value_heads: 8,
      vocab_size: 128256,
      torch_dtype: "bfloat16",
      tie_word_embeddings: false,
    },
    publishedParameters: { total: 8.03, active: 8.03 },
    source: "huggingface.co/meta-llama/Llama-3.1-8B, config.json and model card",
  },
  "llama-3.1-70b": {
    huggingFace: "meta-llama/Llama-3.1-70B",
    config: {
      hidden_size: 8192,
      intermediate_size: 28672,
      num_hidden_layers: 80,
      num_attention_heads: 64,
      num_key_value_heads: 8,
      vocab_size: 128256,
      torch_dtype: "bfloat16",
      tie_word_embeddings: false,
    },
    publishedParameters: { total: 70.6, active: 70.6 },
    source: "huggingface.co/meta-llama/Llama-3.1-70B, config.json and model card",
  },
  "qwen3-30b-a3b": {
    huggingFace: "Qwen/Qwen3-30B-A3B",
    config: {
      hidden_size: 2048,
      intermediate_size: 6144,
      moe_intermediate_size: 768,
      num_experts: 128,
      num_experts_per_tok: 8,
      num_hidden_layers: 48,
      num_attention_heads: 32,
      num_key_value_heads: 4,
      head_dim: 128,
      vocab_size: 151936,
      torch_dtype: "bfloat16",
      tie_word_embeddings: false,
    },
    publishedParameters: { total: 30.5, active: 3.3 },
    source: "huggingface.co/Qwen/Qwen3-30B-A3B, config.json and model card",
  },
  "deepseek-v3": {
    huggingFace: "deepseek-ai/DeepSeek-V3",
    config: {
      hidden_size: 7168,
      intermediate_size: 18432,
      moe_intermediate_size: 2048,
      n_routed_experts: 256,
      n_shared_experts: 1,
      num_experts_per_tok: 8,
      first_k_dense_replace: 3,
      num_hidden_layers: 61,
      num_attention_heads: 128,
      num_key_value_heads: 128,
      kv_lora_rank: 512,
      q_lora_rank: 1536,
      qk_rope_head_dim: 64,
      qk_nope_head_dim: 128,
      v_head_dim: 128,
      vocab_size: 129280,
      torch_dtype: "bfloat16",
      quantization: "fp8", // quantization_config: { quant_method: fp8, fmt: e4m3, weight_block_size: [128, 128] }
      tie_word_embeddings: false,
    },
    // The main model; the repository's 685 B add a 14 B multi-token-prediction module.
    publishedParameters: { total: 671, active: 37 },
    source: "huggingface.co/deepseek-ai/DeepSeek-V3, config.json and model card",
  },
} as const satisfies Record<string, ModelPreset>;

export type ModelPresetName = keyof typeof MODEL_PRESETS;

export const MODEL_PRESET_NAMES = Object.keys(MODEL_PRESETS) as [
  ModelPresetName,
  ...ModelPresetName[],
];
