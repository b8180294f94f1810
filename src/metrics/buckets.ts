// Histogram bucket boundaries of vllm/v1/metrics/loggers.py (build_buckets, build_1_2_5_buckets
// and the literal lists of PrometheusStatLogger), leaving out the KV-residency and spec-decode ones.

/**
 * Every `mantissa × 10^k` in increasing order while it stays ≤ `maxValue`; stops at the first
 * value past it, as vLLM does, so mantissas must be increasing.
 */
export function buildBuckets(mantissas: readonly number[], maxValue: number): number[] {
  const buckets: number[] = [];
  for (let scale = 1; ; scale *= 10) {
    for (const mantissa of mantissas) {
      const value = mantissa * scale;
      if (value > maxValue) return buckets;
      buckets.push(value);
    }
  }
}

/** `1 2 5 10 20 50 100 …` up to `maxValue` (vLLM uses `max_model_len`). */
export function build1_2_5Buckets(maxValue: number): number[] {
  return buildBuckets([1, 2, 5], maxValue);
}

export const TIME_TO_FIRST_TOKEN_BUCKETS: readonly number[] = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80,
  160, 640, 2560,
];

/** Shared by inter-token latency and the per-request mean time per output token. */
export const INTER_TOKEN_LATENCY_BUCKETS: readonly number[] = [
  0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80,
];

/** Shared by the e2e, queue, prefill, decode and inference request histograms. */
export const REQUEST_LATENCY_BUCKETS: readonly number[] = [
  0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680,
];

/**
 * A fixed list in vLLM: it depends neither on `max_num_batched_tokens` nor on the CUDA-graph
 * capture sizes (vLLM v0 used the latter).
 */
export const ITERATION_TOKENS_BUCKETS: readonly number[] = [
  1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384,
];

export const REQUEST_PARAMS_N_BUCKETS: readonly number[] = [1, 2, 5, 10, 20];
