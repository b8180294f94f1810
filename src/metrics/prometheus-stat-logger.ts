// One engine's Prometheus families; mirrors vLLM's PrometheusStatLogger
// (vllm/v1/metrics/loggers.py) for a single engine index, as the selected vLLM version
// (accounting profile) registered and fed its prompt-token families, leaving out LoRA,
// speculative decoding, KV-connector transfer metrics, KV-residency sampling, MFU and the
// NaN-in-logits counter.

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
import { renderExposition } from "./text-format.ts";
import {
  PER_PROFILE_FAMILIES,
  SLEEP_STATES,
  cacheConfigInfoFamily,
  vllmFamilies,
} from "./vllm-families.ts";
import { type ExporterError, PromptSourceCounters } from "../accounting/prompt-source-counters.ts";
import { DEFAULT_PROFILE, PROFILES, type Profile } from "../accounting/profiles.ts";

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
  profile?: Profile;
  /**
   * Another profile's exposition of the same engine. This one then shows that one's families
   * wherever no version differs (everything but the prompt-token and KV-computed families and
   * the exporter errors) instead of recording the same numbers again: with `--profile all` the
   * five expositions of an instance cost little more than one.
   */
  sharesCommonFamiliesOf?: PrometheusStatLogger;
}

/**
 * The families whose values depend on the accounting profile; every other family is common.
 * (pdsim:exporter_errors_total, also per profile, is not one of vLLM's families.)
 */
const PER_PROFILE: ReadonlySet<string> = new Set(PER_PROFILE_FAMILIES);

/** The series of the common families, bound by the exposition that records them. */
interface CommonSeries {
  running: GaugeSeries;
  waiting: GaugeSeries;
  kvCacheUsage: GaugeSeries;
  prefixCacheQueries: CounterSeries;
  prefixCacheHits: CounterSeries;
  externalPrefixCacheQueries: CounterSeries;
  externalPrefixCacheHits: CounterSeries;
  preemptions: CounterSeries;
  generationTokens: CounterSeries;
  requestSuccess: Record<FinishReason, CounterSeries>;
  requestPromptTokens: HistogramSeries;
  requestGenerationTokens: HistogramSeries;
  iterationTokens: HistogramSeries;
  requestMaxNumGenerationTokens: HistogramSeries;
  requestParamsN: HistogramSeries;
  requestParamsMaxTokens: HistogramSeries;
  timeToFirstToken: HistogramSeries;
  interTokenLatency: HistogramSeries;
  requestTimePerOutputToken: HistogramSeries;
  e2eLatency: HistogramSeries;
  queueTime: HistogramSeries;
  inferenceTime: HistogramSeries;
  prefillTime: HistogramSeries;
  decodeTime: HistogramSeries;
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
  private readonly families = new Map<string, MetricFamily>();
  /** Sample name (`x_total`, `x_bucket`, `x_sum`, …) → its family, for `sampleValue`. */
  private readonly bySampleName = new Map<string, MetricFamily>();
  private readonly engineLabels: Labels;
  private readonly engine: string;

  /** Null when another exposition records the common families this one shows. */
  private readonly common: CommonSeries | null;
  private readonly promptSources: PromptSourceCounters;
  private readonly prefillKvComputed: HistogramSeries;
  private readonly exporterErrors = new Map<string, CounterSeries>();
  private pendingExporterErrors: ExporterError[] = [];
  readonly profile: Profile;

  constructor(options: PrometheusStatLoggerOptions) {
    this.engine = String(options.engineIndex);
    this.engineLabels = { model_name: options.modelName, engine: this.engine };
    this.profile = options.profile ?? PROFILES[DEFAULT_PROFILE];
    const shared = options.sharesCommonFamiliesOf ?? null;
    for (const def of vllmFamilies(options.maxModelLen, this.profile)) {
      if (shared !== null && !PER_PROFILE.has(def.name)) this.adoptFamily(shared.family(def.name));
      else this.addFamily(def);
    }
    this.common = shared === null ? this.bindCommon() : null;
    this.promptSources = new PromptSourceCounters(
      (name, extra) => this.bind(name, "counter", extra),
      this.profile,
      (e) => this.refused(e),
    );
    this.prefillKvComputed = this.bind("vllm:request_prefill_kv_computed_tokens", "histogram");

    if (options.cacheConfigInfo !== undefined) {
      const name = cacheConfigInfoFamily(options.cacheConfigInfo).name;
      if (shared !== null) this.adoptFamily(shared.family(name));
      else this.exportCacheConfig(options.cacheConfigInfo);
    }
    this.addFamily(EXPORTER_ERRORS_FAMILY);
  }

  private bindCommon(): CommonSeries {
    for (const state of SLEEP_STATES) {
      const series = this.bind("vllm:engine_sleep_state", "gauge", { sleep_state: state });
      series.set(state === "awake" ? 1 : 0);
    }
    // Never incremented for a text model, but vLLM registers them unconditionally.
    this.bind("vllm:mm_cache_queries_total", "counter");
    this.bind("vllm:mm_cache_hits_total", "counter");
    return {
      running: this.bind("vllm:num_requests_running", "gauge"),
      waiting: this.bind("vllm:num_requests_waiting", "gauge"),
      kvCacheUsage: this.bind("vllm:kv_cache_usage_perc", "gauge"),
      prefixCacheQueries: this.bind("vllm:prefix_cache_queries_total", "counter"),
      prefixCacheHits: this.bind("vllm:prefix_cache_hits_total", "counter"),
      externalPrefixCacheQueries: this.bind("vllm:external_prefix_cache_queries_total", "counter"),
      externalPrefixCacheHits: this.bind("vllm:external_prefix_cache_hits_total", "counter"),
      preemptions: this.bind("vllm:num_preemptions_total", "counter"),
      generationTokens: this.bind("vllm:generation_tokens_total", "counter"),
      requestSuccess: this.bindFinishReasons(),
      requestPromptTokens: this.bind("vllm:request_prompt_tokens", "histogram"),
      requestGenerationTokens: this.bind("vllm:request_generation_tokens", "histogram"),
      iterationTokens: this.bind("vllm:iteration_tokens_total", "histogram"),
      requestMaxNumGenerationTokens: this.bind(
        "vllm:request_max_num_generation_tokens",
        "histogram",
      ),
      requestParamsN: this.bind("vllm:request_params_n", "histogram"),
      requestParamsMaxTokens: this.bind("vllm:request_params_max_tokens", "histogram"),
      timeToFirstToken: this.bind("vllm:time_to_first_token_seconds", "histogram"),
      interTokenLatency: this.bind("vllm:inter_token_latency_seconds", "histogram"),
      requestTimePerOutputToken: this.bind(
        "vllm:request_time_per_output_token_seconds",
        "histogram",
      ),
      e2eLatency: this.bind("vllm:e2e_request_latency_seconds", "histogram"),
      queueTime: this.bind("vllm:request_queue_time_seconds", "histogram"),
      inferenceTime: this.bind("vllm:request_inference_time_seconds", "histogram"),
      prefillTime: this.bind("vllm:request_prefill_time_seconds", "histogram"),
      decodeTime: this.bind("vllm:request_decode_time_seconds", "histogram"),
    };
  }

  /** The refused increments since the last call, for the run's report. */
  takeExporterErrors(): readonly ExporterError[] {
    const errors = this.pendingExporterErrors;
    if (errors.length === 0) return errors; // asked after every step: keep the empty list
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
    const common = this.common;
    if (schedulerStats !== null && common !== null) recordScheduler(common, schedulerStats);
    if (iterationStats === null) return;
    if (common !== null) recordIteration(common, iterationStats);
    this.promptSources.record(iterationStats.firstOutputs);
    for (const finished of iterationStats.finishedRequests) {
      this.prefillKvComputed.observe(
        this.profile.formula(finished.promptTokenInputs).prefillKvComputed,
      );
    }
  }

  /** The family registered as `name`. */
  family(name: string): MetricFamily {
    const family = this.families.get(name);
    if (family === undefined) throw new Error(`no family ${name}`);
    return family;
  }

  /** Every family in Prometheus text format 0.0.4, as a scrape of /metrics returns it. */
  exposition(): string {
    return renderExposition(this.families.values());
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

  /** Registers a family beside vLLM's (pdsim's own families use this). */
  addFamily(def: FamilyDef): MetricFamily {
    return this.adoptFamily(new MetricFamily(def));
  }

  /** Shows a family that another exposition records, as if it were this one's. */
  adoptFamily(family: MetricFamily): MetricFamily {
    if (this.families.has(family.name)) throw new Error(`family ${family.name} defined twice`);
    this.families.set(family.name, family);
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

function recordScheduler(series: CommonSeries, stats: SchedulerStats): void {
  series.running.set(stats.numRunningReqs);
  series.waiting.set(stats.numWaitingReqs);
  series.kvCacheUsage.set(stats.kvCacheUsage);
  series.prefixCacheQueries.inc(stats.prefixCacheStats.queries);
  series.prefixCacheHits.inc(stats.prefixCacheStats.hits);
  const connector = stats.connectorPrefixCacheStats;
  if (connector !== null) {
    series.externalPrefixCacheQueries.inc(connector.queries);
    series.externalPrefixCacheHits.inc(connector.hits);
  }
}

function recordIteration(series: CommonSeries, stats: IterationStats): void {
  series.preemptions.inc(stats.numPreemptedReqs);
  series.generationTokens.inc(stats.numGenerationTokens);
  // Full prompt length of newly started requests plus generated tokens: not the tokens the
  // step computed (a prefix hit or a chunked prefill is counted whole, at its first token).
  series.iterationTokens.observe(stats.numPromptTokens + stats.numGenerationTokens);
  series.requestMaxNumGenerationTokens.observeAll(stats.maxNumGenerationTokensIter);
  series.requestParamsN.observeAll(stats.nParamsIter);
  series.timeToFirstToken.observeAll(stats.timeToFirstTokensIter);
  series.interTokenLatency.observeAll(stats.interTokenLatenciesIter);

  for (const finished of stats.finishedRequests) {
    series.requestSuccess[finished.finishReason].inc();
    series.e2eLatency.observe(finished.e2eLatency);
    series.queueTime.observe(finished.queuedTime);
    series.prefillTime.observe(finished.prefillTime);
    series.inferenceTime.observe(finished.inferenceTime);
    series.decodeTime.observe(finished.decodeTime);
    series.requestPromptTokens.observe(finished.numPromptTokens);
    series.requestGenerationTokens.observe(finished.numGenerationTokens);
    series.requestTimePerOutputToken.observe(finished.meanTimePerOutputToken);
    // vLLM skips a falsy max_tokens (None or 0).
    if (finished.maxTokensParam) series.requestParamsMaxTokens.observe(finished.maxTokensParam);
  }
}

function includesLabels(labels: Labels, wanted: Labels): boolean {
  for (const key in wanted) if (labels[key] !== wanted[key]) return false;
  return true;
}
