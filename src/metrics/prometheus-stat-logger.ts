// One engine's Prometheus families; mirrors vLLM's PrometheusStatLogger
// (vllm/v1/metrics/loggers.py) for a single engine index, as the selected vLLM version
// (accounting profile) registered and fed its prompt-token families, leaving out LoRA,
// speculative decoding, KV-connector transfer metrics, KV-residency sampling, MFU and the
// NaN-in-logits counter.

import { Registry } from "prom-client";
import { FINISH_REASONS, type FinishReason } from "../engine/request-status.ts";
import type { IterationStats, SchedulerStats } from "../engine/stats.ts";
import {
  CounterSeries,
  GaugeSeries,
  HistogramSeries,
  MetricFamily,
  type FamilyDef,
  type FamilyType,
  type Labels,
  type Sample,
} from "./metric-family.ts";
import { SLEEP_STATES, cacheConfigInfoFamily, vllmFamilies } from "./vllm-families.ts";
import { type ExporterError, PromptSourceCounters } from "./prompt-source-counters.ts";
import { DEFAULT_PROFILE, type ProfileName, report } from "./profiles.ts";

export interface PrometheusStatLoggerOptions {
  /** vLLM's served model name, the `model_name` label. */
  modelName: string;
  engineIndex: number;
  /** Upper end of the 1-2-5 token-count buckets. */
  maxModelLen: number;
  /** Part of the instance config; no vLLM family depends on it (iteration buckets are fixed). */
  maxNumBatchedTokens: number;
  /** `CacheConfig.metrics_info()`: when given, `vllm:cache_config_info` is exported. */
  cacheConfigInfo?: Readonly<Record<string, string>>;
  /** The vLLM version whose prompt-token accounting this exposition follows. */
  profile?: ProfileName;
}

/** pdsim's count of the increments the selected version's exporter would have refused. */
const EXPORTER_ERRORS_FAMILY: FamilyDef = {
  name: "pdsim:exporter_errors_total",
  help: "Counter increments the selected vLLM version's exporter would have refused (negative amounts), by metric.",
  type: "counter",
  labelNames: ["model_name", "engine", "metric"],
};

/** Family `f`'s values are `values[offsets[f]]` up to `values[offsets[f + 1]]`. */
export interface CumulativeValues {
  values: number[];
  offsets: number[];
}

export class PrometheusStatLogger {
  readonly registry = new Registry();
  private readonly families = new Map<string, MetricFamily>();
  /** Sample name (`x_total`, `x_bucket`, `x_sum`, …) → its family, for `sampleValue`. */
  private readonly bySampleName = new Map<string, MetricFamily>();
  private readonly engineLabels: Labels;
  private readonly engine: string;

  private readonly running: GaugeSeries;
  private readonly waiting: GaugeSeries;
  private readonly kvCacheUsage: GaugeSeries;
  private readonly prefixCacheQueries: CounterSeries;
  private readonly prefixCacheHits: CounterSeries;
  private readonly externalPrefixCacheQueries: CounterSeries;
  private readonly externalPrefixCacheHits: CounterSeries;
  private readonly preemptions: CounterSeries;
  private readonly promptSources: PromptSourceCounters;
  private readonly exporterErrors = new Map<string, CounterSeries>();
  private pendingExporterErrors: ExporterError[] = [];
  readonly profile: ProfileName;
  private readonly generationTokens: CounterSeries;
  private readonly requestSuccess: Record<FinishReason, CounterSeries>;
  private readonly requestPromptTokens: HistogramSeries;
  private readonly requestGenerationTokens: HistogramSeries;
  private readonly iterationTokens: HistogramSeries;
  private readonly requestMaxNumGenerationTokens: HistogramSeries;
  private readonly requestParamsN: HistogramSeries;
  private readonly requestParamsMaxTokens: HistogramSeries;
  private readonly timeToFirstToken: HistogramSeries;
  private readonly interTokenLatency: HistogramSeries;
  private readonly requestTimePerOutputToken: HistogramSeries;
  private readonly e2eLatency: HistogramSeries;
  private readonly queueTime: HistogramSeries;
  private readonly inferenceTime: HistogramSeries;
  private readonly prefillTime: HistogramSeries;
  private readonly decodeTime: HistogramSeries;
  private readonly prefillKvComputed: HistogramSeries;

  constructor(options: PrometheusStatLoggerOptions) {
    this.engine = String(options.engineIndex);
    this.engineLabels = { model_name: options.modelName, engine: this.engine };
    this.profile = options.profile ?? DEFAULT_PROFILE;
    for (const def of vllmFamilies(options.maxModelLen, this.profile)) this.addFamily(def);

    this.running = this.bind("vllm:num_requests_running", "gauge");
    this.waiting = this.bind("vllm:num_requests_waiting", "gauge");
    for (const state of SLEEP_STATES) {
      const series = this.bind("vllm:engine_sleep_state", "gauge", { sleep_state: state });
      series.set(state === "awake" ? 1 : 0);
    }
    this.kvCacheUsage = this.bind("vllm:kv_cache_usage_perc", "gauge");
    this.prefixCacheQueries = this.bind("vllm:prefix_cache_queries_total", "counter");
    this.prefixCacheHits = this.bind("vllm:prefix_cache_hits_total", "counter");
    this.externalPrefixCacheQueries = this.bind(
      "vllm:external_prefix_cache_queries_total",
      "counter",
    );
    this.externalPrefixCacheHits = this.bind("vllm:external_prefix_cache_hits_total", "counter");
    // Never incremented for a text model, but vLLM registers them unconditionally.
    this.bind("vllm:mm_cache_queries_total", "counter");
    this.bind("vllm:mm_cache_hits_total", "counter");
    this.preemptions = this.bind("vllm:num_preemptions_total", "counter");
    this.promptSources = new PromptSourceCounters(this, this.profile, (e) => this.refused(e));
    this.generationTokens = this.bind("vllm:generation_tokens_total", "counter");
    this.requestSuccess = this.bindFinishReasons();
    this.requestPromptTokens = this.bind("vllm:request_prompt_tokens", "histogram");
    this.requestGenerationTokens = this.bind("vllm:request_generation_tokens", "histogram");
    this.iterationTokens = this.bind("vllm:iteration_tokens_total", "histogram");
    this.requestMaxNumGenerationTokens = this.bind(
      "vllm:request_max_num_generation_tokens",
      "histogram",
    );
    this.requestParamsN = this.bind("vllm:request_params_n", "histogram");
    this.requestParamsMaxTokens = this.bind("vllm:request_params_max_tokens", "histogram");
    this.timeToFirstToken = this.bind("vllm:time_to_first_token_seconds", "histogram");
    this.interTokenLatency = this.bind("vllm:inter_token_latency_seconds", "histogram");
    this.requestTimePerOutputToken = this.bind(
      "vllm:request_time_per_output_token_seconds",
      "histogram",
    );
    this.e2eLatency = this.bind("vllm:e2e_request_latency_seconds", "histogram");
    this.queueTime = this.bind("vllm:request_queue_time_seconds", "histogram");
    this.inferenceTime = this.bind("vllm:request_inference_time_seconds", "histogram");
    this.prefillTime = this.bind("vllm:request_prefill_time_seconds", "histogram");
    this.decodeTime = this.bind("vllm:request_decode_time_seconds", "histogram");
    this.prefillKvComputed = this.bind("vllm:request_prefill_kv_computed_tokens", "histogram");

    if (options.cacheConfigInfo !== undefined) this.exportCacheConfig(options.cacheConfigInfo);
    this.addFamily(EXPORTER_ERRORS_FAMILY);
  }

  /** The refused increments since the last call, for the run's report. */
  takeExporterErrors(): ExporterError[] {
    const errors = this.pendingExporterErrors;
    this.pendingExporterErrors = [];
    return errors;
  }

  private refused(error: ExporterError): void {
    let series = this.exporterErrors.get(error.metric);
    if (series === undefined) {
      series = this.bind("pdsim:exporter_errors_total", "counter", { metric: error.metric });
      this.exporterErrors.set(error.metric, series);
    }
    series.inc();
    this.pendingExporterErrors.push(error);
  }

  record(schedulerStats: SchedulerStats | null, iterationStats: IterationStats | null): void {
    if (schedulerStats !== null) this.recordScheduler(schedulerStats);
    if (iterationStats !== null) this.recordIteration(iterationStats);
  }

  /** The registry in Prometheus text format 0.0.4. */
  exposition(): Promise<string> {
    return this.registry.metrics();
  }

  /**
   * The sum of every series of sample `name` whose labels include `labels` (bucket bounds as
   * rendered: `{ le: "0.5" }`, `{ le: "+Inf" }`); undefined when no series matches.
   */
  sampleValue(name: string, labels: Labels = {}): number | undefined {
    const family = this.bySampleName.get(name);
    if (family === undefined) return undefined;
    let total: number | undefined;
    for (const sample of family.samples()) {
      if (sample.name !== name || !includesLabels(sample.labels, labels)) continue;
      total = (total ?? 0) + sample.value;
    }
    return total;
  }

  /** Every family with its samples, in exposition order. */
  familySamples(): { family: MetricFamily; samples: Sample[] }[] {
    return [...this.families.values()].map((family) => ({ family, samples: family.samples() }));
  }

  /** Every sample of every family, in exposition order. */
  samples(): Sample[] {
    return [...this.families.values()].flatMap((family) => family.samples());
  }

  /**
   * The values that may only grow, family after family in registration order. A series added
   * later extends its family's run, so each family's earlier values keep their order.
   */
  cumulativeValues(): CumulativeValues {
    const values: number[] = [];
    const offsets: number[] = [];
    for (const family of this.families.values()) {
      offsets.push(values.length);
      family.appendCumulativeValues(values);
    }
    offsets.push(values.length);
    return { values, offsets };
  }

  /** Family names in registration order, the order of `cumulativeValues`. */
  familyNames(): string[] {
    return [...this.families.keys()];
  }

  /** Every sample name the exposition holds, in exposition order. */
  sampleNames(): string[] {
    return [...this.bySampleName.keys()];
  }

  private recordScheduler(stats: SchedulerStats): void {
    this.running.set(stats.numRunningReqs);
    this.waiting.set(stats.numWaitingReqs);
    this.kvCacheUsage.set(stats.kvCacheUsage);
    this.prefixCacheQueries.inc(stats.prefixCacheStats.queries);
    this.prefixCacheHits.inc(stats.prefixCacheStats.hits);
    const connector = stats.connectorPrefixCacheStats;
    if (connector !== null) {
      this.externalPrefixCacheQueries.inc(connector.queries);
      this.externalPrefixCacheHits.inc(connector.hits);
    }
  }

  private recordIteration(stats: IterationStats): void {
    this.preemptions.inc(stats.numPreemptedReqs);
    this.promptSources.record(stats.firstOutputs);
    this.generationTokens.inc(stats.numGenerationTokens);
    // Full prompt length of newly started requests plus generated tokens: not the tokens the
    // step computed (a prefix hit or a chunked prefill is counted whole, at its first token).
    this.iterationTokens.observe(stats.numPromptTokens + stats.numGenerationTokens);
    for (const maxTokens of stats.maxNumGenerationTokensIter) {
      this.requestMaxNumGenerationTokens.observe(maxTokens);
    }
    for (const n of stats.nParamsIter) this.requestParamsN.observe(n);
    for (const ttft of stats.timeToFirstTokensIter) this.timeToFirstToken.observe(ttft);
    for (const itl of stats.interTokenLatenciesIter) this.interTokenLatency.observe(itl);

    for (const finished of stats.finishedRequests) {
      this.requestSuccess[finished.finishReason].inc();
      this.e2eLatency.observe(finished.e2eLatency);
      this.queueTime.observe(finished.queuedTime);
      this.prefillTime.observe(finished.prefillTime);
      this.inferenceTime.observe(finished.inferenceTime);
      this.decodeTime.observe(finished.decodeTime);
      this.prefillKvComputed.observe(
        report(this.profile, finished.promptTokenInputs).prefillKvComputed,
      );
      this.requestPromptTokens.observe(finished.numPromptTokens);
      this.requestGenerationTokens.observe(finished.numGenerationTokens);
      this.requestTimePerOutputToken.observe(finished.meanTimePerOutputToken);
      // vLLM skips a falsy max_tokens (None or 0).
      if (finished.maxTokensParam) this.requestParamsMaxTokens.observe(finished.maxTokensParam);
    }
  }

  /** Registers a family beside vLLM's (pdsim's own families use this). */
  addFamily(def: FamilyDef): MetricFamily {
    if (this.families.has(def.name)) throw new Error(`family ${def.name} defined twice`);
    const family = new MetricFamily(def);
    family.registerIn(this.registry);
    this.families.set(def.name, family);
    for (const sampleName of family.sampleNames()) this.bySampleName.set(sampleName, family);
    return family;
  }

  /** Creates the series of family `name` for this engine's labels plus `extra`. */
  bind<T extends FamilyType>(name: string, type: T, extra: Labels = {}) {
    const family = this.families.get(name);
    if (family === undefined || family.type !== type) {
      throw new Error(`no ${type} family ${name} (found ${family?.type ?? "none"})`);
    }
    return (family as MetricFamily<T>).labels({ ...this.engineLabels, ...extra });
  }

  private bindFinishReasons(): Record<FinishReason, CounterSeries> {
    const entries = FINISH_REASONS.map(
      (reason) =>
        [
          reason,
          this.bind("vllm:request_success_total", "counter", { finished_reason: reason }),
        ] as const,
    );
    return Object.fromEntries(entries) as Record<FinishReason, CounterSeries>;
  }

  private exportCacheConfig(info: Readonly<Record<string, string>>): void {
    const family = this.addFamily(cacheConfigInfoFamily(info)) as MetricFamily<"gauge">;
    family.labels({ ...info, engine: this.engine }).set(1);
  }
}

function includesLabels(labels: Labels, wanted: Labels): boolean {
  for (const key in wanted) if (labels[key] !== wanted[key]) return false;
  return true;
}
