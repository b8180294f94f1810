// The families PrometheusStatLogger (vllm/v1/metrics/loggers.py) registers for a text model
// without LoRA, speculative decoding, KV-residency sampling, MFU or NaN checks, in vLLM's
// registration order; the prompt-token-source families follow the accounting profile.

import {
  INTER_TOKEN_LATENCY_BUCKETS,
  ITERATION_TOKENS_BUCKETS,
  REQUEST_LATENCY_BUCKETS,
  REQUEST_PARAMS_N_BUCKETS,
  TIME_TO_FIRST_TOKEN_BUCKETS,
  build1_2_5Buckets,
} from "./buckets.ts";
import type { FamilyDef } from "./metric-family.ts";
import type { Profile } from "../accounting/profiles.ts";

export const ENGINE_LABEL_NAMES = ["model_name", "engine"] as const;

/** `vllm:engine_sleep_state` series, in vLLM's order; an awake engine shows 1, 0, 0. */
export const SLEEP_STATES = ["awake", "weights_offloaded", "discard_all"] as const;

const gauge = (name: string, help: string, extra: string[] = []): FamilyDef => ({
  name,
  help,
  type: "gauge",
  labelNames: [...ENGINE_LABEL_NAMES, ...extra],
});

const counter = (name: string, help: string, extra: string[] = []): FamilyDef => ({
  name,
  help,
  type: "counter",
  labelNames: [...ENGINE_LABEL_NAMES, ...extra],
});

const histogram = (name: string, help: string, buckets: readonly number[]): FamilyDef => ({
  name,
  help,
  type: "histogram",
  labelNames: [...ENGINE_LABEL_NAMES],
  buckets,
});

/**
 * The prompt-token families in registration order, each with what in a profile's row says
 * whether the version registers it.
 */
const PROMPT_TOKEN_FAMILIES: readonly {
  def: FamilyDef;
  registered: (profile: Profile) => boolean;
}[] = [
  {
    def: counter("vllm:prompt_tokens_total", "Number of prefill tokens processed."),
    registered: () => true,
  },
  {
    def: counter("vllm:prompt_tokens_by_source_total", "Number of prompt tokens by source.", [
      "source",
    ]),
    registered: (profile) => profile.hasSourceSplit,
  },
  {
    def: counter(
      "vllm:prompt_tokens_cached_total",
      "Number of cached prompt tokens (local + external).",
    ),
    registered: (profile) => profile.hasSourceSplit,
  },
  {
    def: counter(
      "vllm:prompt_tokens_recomputed_total",
      "Number of cached tokens recomputed for forward pass.",
    ),
    registered: (profile) => profile.exportsRecomputed,
  },
];

/**
 * The families whose values depend on the accounting profile: every prompt-token family some
 * version registers, and the KV-computed histogram, which each version derives its own way.
 */
export const PER_PROFILE_FAMILIES: readonly string[] = [
  ...PROMPT_TOKEN_FAMILIES.map((family) => family.def.name),
  "vllm:request_prefill_kv_computed_tokens",
];

export function vllmFamilies(maxModelLen: number, profile: Profile): FamilyDef[] {
  const tokenBuckets = build1_2_5Buckets(maxModelLen);
  return [
    gauge("vllm:num_requests_running", "Number of requests in model execution batches."),
    gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed."),
    gauge(
      "vllm:engine_sleep_state",
      "Engine sleep state; awake = 0 means engine is sleeping; awake = 1 means engine is awake; " +
        "weights_offloaded = 1 means sleep level 1; discard_all = 1 means sleep level 2.",
      ["sleep_state"],
    ),
    gauge("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage."),
    counter(
      "vllm:prefix_cache_queries_total",
      "Prefix cache queries, in terms of number of queried tokens.",
    ),
    counter(
      "vllm:prefix_cache_hits_total",
      "Prefix cache hits, in terms of number of cached tokens.",
    ),
    counter(
      "vllm:external_prefix_cache_queries_total",
      "External prefix cache queries from KV connector cross-instance cache sharing, " +
        "in terms of number of queried tokens.",
    ),
    counter(
      "vllm:external_prefix_cache_hits_total",
      "External prefix cache hits from KV connector cross-instance cache sharing, " +
        "in terms of number of cached tokens.",
    ),
    counter(
      "vllm:mm_cache_queries_total",
      "Multi-modal cache queries, in terms of number of queried items.",
    ),
    counter(
      "vllm:mm_cache_hits_total",
      "Multi-modal cache hits, in terms of number of cached items.",
    ),
    counter("vllm:num_preemptions_total", "Cumulative number of preemption from the engine."),
    ...PROMPT_TOKEN_FAMILIES.filter((family) => family.registered(profile)).map((f) => f.def),
    counter("vllm:generation_tokens_total", "Number of generation tokens processed."),
    counter("vllm:request_success_total", "Count of successfully processed requests.", [
      "finished_reason",
    ]),
    histogram("vllm:request_prompt_tokens", "Number of prefill tokens processed.", tokenBuckets),
    histogram(
      "vllm:request_generation_tokens",
      "Number of generation tokens processed.",
      tokenBuckets,
    ),
    histogram(
      "vllm:iteration_tokens_total",
      "Histogram of number of tokens per engine_step.",
      ITERATION_TOKENS_BUCKETS,
    ),
    histogram(
      "vllm:request_max_num_generation_tokens",
      "Histogram of maximum number of requested generation tokens.",
      tokenBuckets,
    ),
    histogram(
      "vllm:request_params_n",
      "Histogram of the n request parameter.",
      REQUEST_PARAMS_N_BUCKETS,
    ),
    histogram(
      "vllm:request_params_max_tokens",
      "Histogram of the max_tokens request parameter.",
      tokenBuckets,
    ),
    histogram(
      "vllm:time_to_first_token_seconds",
      "Histogram of time to first token in seconds.",
      TIME_TO_FIRST_TOKEN_BUCKETS,
    ),
    histogram(
      "vllm:inter_token_latency_seconds",
      "Histogram of inter-token latency in seconds.",
      INTER_TOKEN_LATENCY_BUCKETS,
    ),
    histogram(
      "vllm:request_time_per_output_token_seconds",
      "Histogram of time_per_output_token_seconds per request.",
      INTER_TOKEN_LATENCY_BUCKETS,
    ),
    histogram(
      "vllm:e2e_request_latency_seconds",
      "Histogram of e2e request latency in seconds.",
      REQUEST_LATENCY_BUCKETS,
    ),
    histogram(
      "vllm:request_queue_time_seconds",
      "Histogram of time spent in WAITING phase for request.",
      REQUEST_LATENCY_BUCKETS,
    ),
    histogram(
      "vllm:request_inference_time_seconds",
      "Histogram of time spent in RUNNING phase for request.",
      REQUEST_LATENCY_BUCKETS,
    ),
    histogram(
      "vllm:request_prefill_time_seconds",
      "Histogram of time spent in PREFILL phase for request.",
      REQUEST_LATENCY_BUCKETS,
    ),
    histogram(
      "vllm:request_decode_time_seconds",
      "Histogram of time spent in DECODE phase for request.",
      REQUEST_LATENCY_BUCKETS,
    ),
    histogram(
      "vllm:request_prefill_kv_computed_tokens",
      "Histogram of new KV tokens computed during prefill (excluding cached tokens).",
      tokenBuckets,
    ),
  ];
}

/**
 * vLLM's info-style gauge: one series per engine set to 1, labelled by every CacheConfig field
 * (as strings) and then `engine`, with no `model_name`.
 */
export function cacheConfigInfoFamily(info: Readonly<Record<string, string>>): FamilyDef {
  return {
    name: "vllm:cache_config_info",
    help: "Information of the LLMEngine CacheConfig",
    type: "gauge",
    labelNames: [...Object.keys(info).filter((k) => k !== "engine"), "engine"],
  };
}
