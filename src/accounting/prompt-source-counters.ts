// The profile-driven prompt counters of one exposition: vllm:prompt_tokens_total and the
// prompt-token-source families, incremented the way vLLM does it — one PromptTokenStats summed
// over a step's first outputs, then one increment per counter — so a negative sum is exactly
// where vLLM's Prometheus client would have raised.

import type { PromptTokenInputs } from "../engine/stats.ts";
import type { CounterSeries, Labels } from "../metrics/metric-family.ts";
import type { Profile } from "./profiles.ts";

export const PROMPT_SOURCES = ["local_compute", "local_cache_hit", "external_kv_transfer"] as const;
export type PromptSource = (typeof PROMPT_SOURCES)[number];

/** A counter increment vLLM's exporter would have refused (prometheus_client raises ValueError). */
export interface ExporterError {
  /** The series, as written in an exposition. */
  metric: string;
  amount: number;
  /** The requests whose first output was in the refused step. */
  requestIds: string[];
}

export const EXPORTER_ERROR_MESSAGE = "Counters can only be incremented by non-negative amounts.";

/** How an exporter error names each source's series. */
const BY_SOURCE_METRIC = Object.fromEntries(
  PROMPT_SOURCES.map((source) => [
    source,
    `vllm:prompt_tokens_by_source_total{source="${source}"}`,
  ]),
) as Record<PromptSource, string>;

/** Binds the series of counter family `name` for the exposition's engine labels plus `extra`. */
export type BindCounter = (name: string, extra?: Labels) => CounterSeries;

export class PromptSourceCounters {
  private readonly total: CounterSeries;
  private readonly bySource: Record<PromptSource, CounterSeries> | null = null;
  private readonly cached: CounterSeries | null = null;
  private readonly recomputed: CounterSeries | null = null;

  constructor(
    bind: BindCounter,
    readonly profile: Profile,
    private readonly onError: (error: ExporterError) => void,
  ) {
    this.total = bind("vllm:prompt_tokens_total");
    if (!profile.hasSourceSplit) return;
    this.bySource = Object.fromEntries(
      PROMPT_SOURCES.map((source) => [
        source,
        bind("vllm:prompt_tokens_by_source_total", { source }),
      ]),
    ) as Record<PromptSource, CounterSeries>;
    this.cached = bind("vllm:prompt_tokens_cached_total");
    if (profile.exportsRecomputed) {
      this.recomputed = bind("vllm:prompt_tokens_recomputed_total");
    }
  }

  record(firstOutputs: readonly PromptTokenInputs[]): void {
    if (firstOutputs.length === 0) return;
    const sum = {
      total: 0,
      local_compute: 0,
      local_cache_hit: 0,
      external_kv_transfer: 0,
      cached: 0,
      recomputed: 0,
    };
    for (const inputs of firstOutputs) {
      const r = this.profile.formula(inputs);
      sum.total += r.promptTokensTotal;
      sum.local_compute += r.localCompute;
      sum.local_cache_hit += r.localCacheHit;
      sum.external_kv_transfer += r.externalKvTransfer;
      sum.cached += r.cached;
      sum.recomputed += r.recomputed ?? 0;
    }
    this.inc(this.total, sum.total, "vllm:prompt_tokens_total", firstOutputs);
    if (this.bySource !== null) {
      for (const source of PROMPT_SOURCES) {
        this.inc(this.bySource[source], sum[source], BY_SOURCE_METRIC[source], firstOutputs);
      }
    }
    if (this.cached !== null)
      this.inc(this.cached, sum.cached, "vllm:prompt_tokens_cached_total", firstOutputs);
    if (this.recomputed !== null) {
      this.inc(
        this.recomputed,
        sum.recomputed,
        "vllm:prompt_tokens_recomputed_total",
        firstOutputs,
      );
    }
  }

  /** vLLM would crash its output handler here; pdsim skips the increment and reports it. */
  private inc(
    series: CounterSeries,
    amount: number,
    metric: string,
    firstOutputs: readonly PromptTokenInputs[],
  ): void {
    if (amount >= 0) series.inc(amount);
    else this.onError({ metric, amount, requestIds: firstOutputs.map((i) => i.requestId) });
  }
}
