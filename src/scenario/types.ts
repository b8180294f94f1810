// The resolved scenario that the rest of pdsim consumes: every default filled in, every
// instance carrying its full engine configuration, every list item its source line.
import type { DistributionConfig } from "./distribution-schema.ts";
import type { MetricSelector } from "./selector.ts";
import type { ArrivalConfig } from "./workload-schema.ts";
import type { CsvColumns, CsvTimeUnit, TraceFormat } from "./trace-schema.ts";
import type { CacheDtype, ModelConfig } from "../deployment/model-config.ts";
import type { GpuSpec } from "../deployment/gpu-presets.ts";
import type { KvCacheMemory } from "../deployment/kv-cache-memory.ts";
import type { StepTimeModel } from "../engine/step-latency.ts";
import type {
  CONNECTORS,
  LOAD_FAILURE_POLICIES,
  PD_CONNECTORS,
  PROFILE_NAMES,
  ROLES,
  ROUTING_POLICIES,
  TIER_SCOPES,
} from "./names.ts";

export type { ArrivalConfig, DistributionConfig, MetricSelector };

/** Where an engine value came from: a level that gives it, or a default (pdsim's or vLLM's). */
export type EngineSource = "default" | "vllm default" | "engine" | "vllm_args";

export type ProfileName = (typeof PROFILE_NAMES)[number];
export type ConnectorName = (typeof CONNECTORS)[number];
export type PdConnectorName = (typeof PD_CONNECTORS)[number];
export type RoutingPolicy = (typeof ROUTING_POLICIES)[number];
export type InstanceRole = (typeof ROLES)[number];
export type LoadFailurePolicy = (typeof LOAD_FAILURE_POLICIES)[number];
export type TierScope = (typeof TIER_SCOPES)[number];

export interface Scenario {
  file: string;
  name: string;
  description: string;
  /** One line: what the scenario teaches (scenarios/README.md). */
  lesson: string;
  seed: number;
  model: ModelSpec;
  /** In file order. */
  instances: InstanceConfig[];
  kv_transfer: KvTransferConfig;
  /** External KV cache tiers that offloading and lmcache connectors use; in file order. */
  kv_cache_tiers: KvCacheTierConfig[];
  proxy: ProxyConfig;
  workload: WorkloadConfig;
  metrics: MetricsConfig;
  expect: Expectation[];
}

export interface ModelSpec {
  /** The served model name (vLLM's --served-model-name), the metrics' model_name. */
  name: string;
  kv_bytes_per_token: number;
  /** Whether the scenario states kv_bytes_per_token, or it comes from the model, or the default. */
  kv_bytes_from: "given" | "derived" | "default";
  step_time: StepTimeConfig;
  /** vLLM's --kv-cache-dtype. */
  cache_dtype: CacheDtype;
  /** Where the model's shapes came from, when a preset or config.json gave them. */
  source?: { kind: "preset" | "config"; name: string; config: ModelConfig };
}

export interface MetricsConfig {
  profile: ProfileName;
  model_name: string;
  scrape_interval_s: number;
  /** UTC, e.g. `2026-01-01T00:00:00Z`: the wall-clock time of simulated time 0. */
  start_time: string;
  job: string;
}

export type StepTimeConfig = LinearStepTimeConfig | RooflineStepTimeConfig;

export interface LinearStepTimeConfig {
  model: "linear";
  base_ms: number;
  per_prefill_token_us: number;
  per_decode_seq_us: number;
  per_context_token_ns: number;
}

export interface RooflineStepTimeConfig {
  model: "roofline";
  compute_efficiency: number;
  bandwidth_efficiency: number;
  overhead_ms: number;
}

export interface EngineConfig {
  block_size: number;
  num_gpu_blocks: number;
  max_model_len: number;
  max_num_batched_tokens: number;
  max_num_seqs: number;
  enable_prefix_caching: boolean;
  enable_chunked_prefill: boolean;
  /** 0 means off. */
  long_prefill_token_threshold: number;
  log_stats_interval_s: number;
  /** vLLM's --gpu-memory-utilization: the share of the GPU's memory the engine may use. */
  gpu_memory_utilization: number;
  /** vLLM's --tensor-parallel-size: GPUs the instance shards its weights and KV heads across. */
  tensor_parallel_size: number;
}

export interface InstanceConfig {
  name: string;
  role: InstanceRole;
  /**
   * The defaults (vLLM's with vllm_args at either level), then the top-level `engine` and
   * `vllm_args`, then the instance's own `engine` and `vllm_args` (instance-engine.ts).
   */
  engine: EngineConfig;
  /** The instance's GPU, else the scenario's; absent when neither names one. */
  gpu?: GpuSpec;
  /** The engine keys the scenario or the instance states (the rest are defaults); absent: none. */
  engine_given?: readonly (keyof EngineConfig)[];
  /** With vllm_args at either level: where each engine value came from; absent without. */
  engine_from?: Readonly<Record<keyof EngineConfig, EngineSource>>;
  /** With vllm_args at either level: the flags given that change nothing pdsim models. */
  vllm_args_ignored?: readonly string[];
  /**
   * With vllm_args at either level: the model its command line serves and the kv_role its
   * --kv-transfer-config gives, as written, for `pdsim config` to print back; absent: not given.
   */
  vllm_serve?: { model?: string; kv_role?: "kv_producer" | "kv_consumer" | "kv_both" };
  /** How the cache was sized from the GPU's memory, when num_gpu_blocks was derived. */
  kv_cache_memory?: KvCacheMemory;
  /** The step-time model with this instance's GPU and tensor parallelism filled in. */
  step_time: StepTimeModel;
  /** The instance's own connector; absent: the scenario's kv_transfer. */
  kv_connector?: ConnectorSpec;
  line: number;
}

/** A connector and what it needs: the tier of an offloading or lmcache one, a multi's list. */
export interface ConnectorSpec {
  connector: ConnectorName;
  tier?: string;
  connectors?: ConnectorEntry[];
}

export interface ConnectorEntry {
  connector: ConnectorName;
  tier?: string;
}

export interface KvCacheTierConfig {
  name: string;
  scope: TierScope;
  capacity_tokens: number;
  chunk_tokens: number;
  load: { latency_ms: number; bandwidth_gb_per_s: number };
  store: { latency_ms: number; bandwidth_gb_per_s: number };
  line: number;
}

export interface KvTransferConfig {
  connector: ConnectorName;
  /** For an offloading or lmcache connector: the kv_cache_tiers entry it uses. */
  tier?: string;
  /** For `multi`: the connectors, asked in this order. */
  connectors?: ConnectorEntry[];
  link: { latency_ms: number; bandwidth_gb_per_s: number };
  load_failure_policy: LoadFailurePolicy;
  faults: { load_failure_probability: number };
  lease_s: number;
}

export interface ProxyConfig {
  prefill_policy: RoutingPolicy;
  decode_policy: RoutingPolicy;
  unified_policy: RoutingPolicy;
  /** With unified and P/D instances side by side, prompts shorter than this go to unified ones. */
  pd_min_prompt_tokens: number;
}

export type WorkloadConfig = (
  GeneratedWorkloadConfig | ExplicitWorkloadConfig | TraceWorkloadConfig | SessionsWorkloadConfig
) & {
  /** Closed-loop clients, each sending its next request when its previous one finished; null: open loop. */
  concurrency: number | null;
};

/** Multi-turn conversations (src/workload/sessions.ts). */
export interface SessionsWorkloadConfig {
  kind: "sessions";
  num_sessions: number;
  arrival: ArrivalConfig;
  start_s: number;
  turns: DistributionConfig;
  first_prompt_tokens: DistributionConfig;
  user_tokens: DistributionConfig;
  max_tokens: DistributionConfig;
  output_tokens?: DistributionConfig;
  think_time_s: DistributionConfig;
  shared_prefix?: SharedPrefixConfig;
}

export interface GeneratedWorkloadConfig {
  kind: "generated";
  num_requests: number;
  arrival: ArrivalConfig;
  prompt_tokens: DistributionConfig;
  max_tokens: DistributionConfig;
  /** The natural output length (where EOS comes); reaching it finishes with 'stop', even at max_tokens. */
  output_tokens?: DistributionConfig;
  shared_prefix?: SharedPrefixConfig;
  start_s: number;
}

export interface SharedPrefixConfig {
  groups: number;
  tokens: number;
  probability: number;
}

export interface ExplicitWorkloadConfig {
  kind: "explicit";
  requests: ExplicitRequestConfig[];
}

/** A trace replayed as the workload (src/workload/trace/). */
export interface TraceWorkloadConfig {
  kind: "trace";
  format: TraceFormat;
  /** As the scenario wrote it. */
  path: string;
  /** `path` resolved against the scenario file's directory. */
  file: string;
  /** Tokens per hash id (mooncake). */
  block_tokens: number;
  /** The columns of a CSV trace (Azure's names unless the scenario gives others). */
  columns: CsvColumns;
  time_unit: CsvTimeUnit;
  /** The tokenizer.json as the scenario wrote it (openai-jsonl); absent: the shipped Qwen3 one. */
  tokenizer?: string;
  /** `tokenizer` resolved against the scenario file's directory. */
  tokenizer_file?: string;
  /** The output length of a line that gives none (openai-jsonl only, where it defaults to 256). */
  output_tokens?: number;
  /** Multiplies every gap between arrivals. */
  time_scale?: number;
  /** Re-times the window to this mean arrival rate, keeping the order and the gaps' proportions. */
  rate_per_s?: number;
  /** The window, in seconds of the trace's own clock from its first request. */
  start_s: number;
  duration_s?: number;
  max_requests?: number;
  /** Replays the window again and again until max_requests have been sent. */
  loop: boolean;
}

/** Exactly one of prompt_tokens and prompt_from is set; prefix only with prompt_tokens. */
export interface ExplicitRequestConfig {
  id: string;
  at_s: number;
  prompt_tokens?: number;
  /** The id of an earlier request whose token ids this one repeats. */
  prompt_from?: string;
  prefix?: { group: string; tokens: number };
  max_tokens: number;
  output_tokens?: number;
  line: number;
}

export interface Expectation {
  instance: string;
  /** The selector as written. */
  metric: string;
  selector: MetricSelector;
  equals?: number;
  min?: number;
  max?: number;
  tolerance: number;
  line: number;
}
