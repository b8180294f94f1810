// Published measurements of real models on real GPUs that the roofline step time is compared
// with (guide chapter 7), each with where it was published and what was run. The numbers are as
// their sources print them.

export interface PublishedSource {
  /** A short name for tables. */
  name: string;
  /** Where it was published: a repository and file at a commit, or an address. */
  where: string;
  /** The serving software and its version. */
  software: string;
}

export const SOURCES = {
  vllmFp8KvBlog: {
    name: "vLLM blog, FP8 KV cache (2026-04-22)",
    where:
      "vllm-project/vllm-project.github.io, _posts/2026-04-22-fp8-kvcache.md at c3a01c4a5807c8d900ae468897e45263373e534e",
    software: "vLLM 0.19.1",
  },
  gpustackQwen3_8b: {
    name: "GPUStack performance lab, Qwen3 8B on H100",
    where:
      "gpustack/gpustack, docs/performance-lab/qwen3-8b/h100-latency.md at 47277d79f4a5bae12a2d25e9ecbed2a2177a5f2d",
    software: "vLLM 0.11.0",
  },
  gpustackQwen3_32b: {
    name: "GPUStack performance lab, Qwen3 32B on H100",
    where:
      "gpustack/gpustack, docs/performance-lab/qwen3-32b/h100.md at 47277d79f4a5bae12a2d25e9ecbed2a2177a5f2d",
    software: "vLLM 0.11.0",
  },
  rocmVllmDocker: {
    name: "AMD's vLLM container notes, MI300X",
    where: "ROCm/vllm, docs/dev-docker/README.md at 040de12d45c16d6de6ad386cc57dd68b8c5b805e",
    software: "vLLM 0.10.0 (ROCm 6.4.1)",
  },
  a100Sweep: {
    name: "vLLM throughput and latency sweep on an A100 40GB",
    where: "johnmusgrave.com/p/vllm-throughput-latency-sweep-on",
    software: "vLLM 0.23.0",
  },
} as const satisfies Record<string, PublishedSource>;

/**
 * Llama 3.1 8B on one H100, one request at a time, 128 output tokens, prompts from 256 to
 * 125,000 tokens (BF16 KV cache): the blog fits the inter-token latency as a line in the
 * context length.
 */
export const LLAMA_8B_H100_ITL_FIT = {
  source: SOURCES.vllmFp8KvBlog,
  interceptMs: 6.44,
  msPerContextToken: 4.37e-5,
};

/** The same blog, 150 requests through 8 clients, prompts ~20k and outputs ~2k tokens (±15 %). */
export const LLAMA_8B_H100_LONG_CONTEXT = {
  source: SOURCES.vllmFp8KvBlog,
  medianTtftMs: 763.6,
  medianItlMs: 15.18,
  outputTokensPerS: 450.3,
};

/** ShareGPT (about 233 prompt and 221 output tokens a request), mean time per output token. */
export const QWEN3_8B_H100_CHAT = {
  source: SOURCES.gpustackQwen3_8b,
  meanTpotMsByConcurrency: { 1: 7.28, 8: 7.71 },
};

/** 500 requests of 2,000 prompt and 100 output tokens, all sent at once. */
export const QWEN3_32B_H100_BURST = {
  source: SOURCES.gpustackQwen3_32b,
  durationS: 328.04,
  totalTokensPerS: 3195.3,
  meanTpotMs: 86.62,
};

/** Llama 3.1 8B (Instruct) decoding one request at a time, 1,024 prompt and 128 output tokens. */
export const LLAMA_8B_A100_40GB_DECODE = {
  source: SOURCES.a100Sweep,
  outputTokensPerS: 75,
};

/**
 * Llama 3.1 70B (AMD's FP8 checkpoint, FP8 KV cache) on 8 MI300X at tensor parallelism 8, one
 * request: 128 prompt tokens, then 2,048 output tokens in 17.236 s (a static batch of one).
 */
export const LLAMA_70B_MI300X_TP8 = {
  source: SOURCES.rocmVllmDocker,
  promptTokens: 128,
  outputTokens: 2048,
  latencyS: 17.236,
};
