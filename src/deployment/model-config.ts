// A model as its Hugging Face config.json describes it, and what a deployment needs of it: how
// many bytes of KV cache a token takes, as vLLM sizes its cache, and how many parameters it has.
//
// vLLM's cache holds, per layer and per token, a key and a value of num_key_value_heads ×
// head_dim elements for multi-head or grouped-query attention (vllm/v1/kv_cache_interface.py,
// AttentionSpec.page_size_bytes = 2 × block_size × num_kv_heads × head_size × dtype size), and
// for multi-head latent attention (DeepSeek's MLA) one latent of kv_lora_rank +
// qk_rope_head_dim elements (MLAAttentionSpec: a single copy, no separate K and V).

/** The config.json fields pdsim reads; the rest of the file is ignored. */
export interface ModelConfig {
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  /** Absent: as many as attention heads (multi-head attention). */
  num_key_value_heads?: number;
  /** Absent: hidden_size / num_attention_heads. */
  head_dim?: number;
  vocab_size: number;
  torch_dtype?: string;
  /**
   * quantization_config.quant_method when it is "fp8" (DeepSeek-V3's block-wise FP8): the
   * projections and experts are stored in one byte a parameter, the embeddings and output head
   * in torch_dtype.
   */
  quantization?: "fp8";
  tie_word_embeddings?: boolean;
  // Mixture of experts (Qwen3-MoE: num_experts; DeepSeek: n_routed_experts).
  num_experts?: number;
  n_routed_experts?: number;
  num_experts_per_tok?: number;
  moe_intermediate_size?: number;
  n_shared_experts?: number;
  /** DeepSeek: the first this many layers are dense. */
  first_k_dense_replace?: number;
  // Multi-head latent attention (DeepSeek-V2/V3).
  kv_lora_rank?: number;
  q_lora_rank?: number | null;
  qk_rope_head_dim?: number;
  qk_nope_head_dim?: number;
  v_head_dim?: number;
}

/** `auto`: the model's own dtype; `fp8`: one byte an element (vLLM's --kv-cache-dtype). */
export type CacheDtype = "auto" | "fp8";

const REQUIRED = [
  "hidden_size",
  "intermediate_size",
  "num_hidden_layers",
  "num_attention_heads",
  "vocab_size",
] as const;

const OPTIONAL_COUNTS = [
  "num_key_value_heads",
  "head_dim",
  "num_experts",
  "n_routed_experts",
  "num_experts_per_tok",
  "moe_intermediate_size",
  "n_shared_experts",
  "first_k_dense_replace",
  "kv_lora_rank",
  "qk_rope_head_dim",
  "qk_nope_head_dim",
  "v_head_dim",
] as const;

/** Bytes an element of each dtype a config may name takes. */
const DTYPE_BYTES: Record<string, number> = {
  bfloat16: 2,
  float16: 2,
  float32: 4,
};

/**
 * The fields pdsim needs from a parsed config.json, or the problems: each missing or malformed
 * field named. MLA configs need kv_lora_rank and qk_rope_head_dim together.
 */
export function readModelConfig(json: unknown): { config: ModelConfig } | { problems: string[] } {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return { problems: ["expected a JSON object (a Hugging Face config.json)"] };
  }
  const raw = json as Record<string, unknown>;
  const problems: string[] = [];
  const count = (key: string, required: boolean): number | undefined => {
    const value = raw[key];
    if (value === undefined || value === null) {
      if (required) problems.push(`${key} is missing`);
      return undefined;
    }
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
      problems.push(`${key} must be a whole number ≥ 0, got ${JSON.stringify(value)}`);
      return undefined;
    }
    return value;
  };
  const config: Record<string, unknown> = {};
  for (const key of REQUIRED) config[key] = count(key, true);
  for (const key of OPTIONAL_COUNTS) {
    const value = count(key, false);
    if (value !== undefined) config[key] = value;
  }
  if (typeof raw.torch_dtype === "string") config.torch_dtype = raw.torch_dtype;
  if (typeof raw.tie_word_embeddings === "boolean") {
    config.tie_word_embeddings = raw.tie_word_embeddings;
  }
  if (typeof raw.q_lora_rank === "number") config.q_lora_rank = raw.q_lora_rank;
  const quantization = raw.quantization_config;
  if (quantization !== undefined && quantization !== null) {
    const method = (quantization as { quant_method?: unknown }).quant_method;
    if (method === "fp8") config.quantization = "fp8";
    else {
      problems.push(
        `quantization_config.quant_method ${JSON.stringify(method)} is not one pdsim models: it sizes weights in torch_dtype, or in one byte with quant_method "fp8"`,
      );
    }
  }
  if ((config.kv_lora_rank === undefined) !== (config.qk_rope_head_dim === undefined)) {
    problems.push("kv_lora_rank and qk_rope_head_dim go together (multi-head latent attention)");
  }
  if (config.num_attention_heads === 0) problems.push("num_attention_heads must be at least 1");
  if (problems.length > 0) return { problems };
  return { config: config as unknown as ModelConfig };
}

/** Whether the model caches one MLA latent a layer instead of a key and a value. */
export function isMla(config: ModelConfig): boolean {
  return config.kv_lora_rank !== undefined && config.qk_rope_head_dim !== undefined;
}

/** Bytes an element of the cache takes under `cacheDtype`. */
export function cacheElementBytes(config: ModelConfig, cacheDtype: CacheDtype): number {
  if (cacheDtype === "fp8") return 1;
  return DTYPE_BYTES[config.torch_dtype ?? "bfloat16"] ?? 2;
}

/** The head size vLLM uses: head_dim, or hidden_size / num_attention_heads without it. */
export function headDim(config: ModelConfig): number {
  return config.head_dim ?? config.hidden_size / config.num_attention_heads;
}

/** KV cache bytes one token takes over all layers, as vLLM's cache specs size it. */
export function kvBytesPerToken(config: ModelConfig, cacheDtype: CacheDtype): number {
  const element = cacheElementBytes(config, cacheDtype);
  const perLayer = isMla(config)
    ? config.kv_lora_rank! + config.qk_rope_head_dim!
    : 2 * (config.num_key_value_heads ?? config.num_attention_heads) * headDim(config);
  return config.num_hidden_layers * perLayer * element;
}

/** Bytes of the weights: the linear layers in the quantized size, the embeddings in torch_dtype. */
export function weightBytes(
  config: ModelConfig,
  p: ParameterBreakdown,
): {
  /** Embeddings and output head together. */
  embeddings: number;
  /** Every other parameter (attention, MLPs, shared experts, routers), routed experts aside. */
  dense: number;
  /** One routed expert of one layer. */
  expert: number;
} {
  const full = DTYPE_BYTES[config.torch_dtype ?? "bfloat16"] ?? 2;
  const linear = config.quantization === "fp8" ? 1 : full;
  return {
    embeddings: (p.embedding + p.lmHead) * full,
    dense: p.dense * linear,
    expert: p.expert * linear,
  };
}

export interface ParameterCount {
  total: number;
  /** Per token: a mixture of experts runs only num_experts_per_tok of its experts. */
  active: number;
}

/** Where a model's parameters sit, as the step time reads them: some per token, some per step. */
export interface ParameterBreakdown {
  /** The input embedding table: a token reads one row of it. */
  embedding: number;
  /** The output head (the embedding table again when tied): one row a vocabulary entry. */
  lmHead: number;
  /** Attention, dense MLPs, shared experts and routers: every token runs all of them. */
  dense: number;
  /** One routed expert of one layer. */
  expert: number;
  /** Layers with routed experts. */
  moeLayers: number;
  /** Routed experts a layer (0 for a dense model). */
  experts: number;
  /** Routed experts a token runs a layer. */
  expertsPerToken: number;
}

/**
 * Parameters from the config's shapes: embeddings (and the output head unless tied), each
 * layer's attention projections and MLP (dense, or routed and shared experts with their router);
 * norms and biases are left out (well under 0.1 % of any preset).
 */
export function parameterBreakdown(config: ModelConfig): ParameterBreakdown {
  const h = config.hidden_size;
  const experts = config.num_experts ?? config.n_routed_experts ?? 0;
  const firstDense = experts === 0 ? config.num_hidden_layers : (config.first_k_dense_replace ?? 0);
  const moeLayers = config.num_hidden_layers - firstDense;
  const expert = 3 * h * (config.moe_intermediate_size ?? config.intermediate_size);
  const shared = (config.n_shared_experts ?? 0) * expert;
  const router = h * experts;
  return {
    embedding: config.vocab_size * h,
    lmHead: config.tie_word_embeddings === true ? 0 : config.vocab_size * h,
    dense:
      config.num_hidden_layers * attentionParameters(config) +
      firstDense * 3 * h * config.intermediate_size +
      moeLayers * (shared + router),
    expert: experts === 0 ? 0 : expert,
    moeLayers: experts === 0 ? 0 : moeLayers,
    experts,
    expertsPerToken: experts === 0 ? 0 : (config.num_experts_per_tok ?? experts),
  };
}

export function parameterCount(config: ModelConfig): ParameterCount {
  const p = parameterBreakdown(config);
  const always = p.embedding + p.lmHead + p.dense;
  return {
    total: always + p.moeLayers * p.experts * p.expert,
    active: always + p.moeLayers * p.expertsPerToken * p.expert,
  };
}

function attentionParameters(config: ModelConfig): number {
  const h = config.hidden_size;
  const heads = config.num_attention_heads;
  if (isMla(config)) {
    const nope = config.qk_nope_head_dim ?? 0;
    const rope = config.qk_rope_head_dim!;
    const v = config.v_head_dim ?? nope;
    const qRank = config.q_lora_rank ?? null;
    const q =
      qRank === null ? h * heads * (nope + rope) : h * qRank + qRank * heads * (nope + rope);
    const kvA = h * (config.kv_lora_rank! + rope);
    const kvB = config.kv_lora_rank! * heads * (nope + v);
    return q + kvA + kvB + heads * v * h;
  }
  const d = headDim(config);
  const kv = config.num_key_value_heads ?? heads;
  return h * heads * d + 2 * h * kv * d + heads * d * h;
}
