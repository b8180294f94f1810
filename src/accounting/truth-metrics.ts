// pdsim's ground-truth prompt families, exported beside every profile's vllm: families so a
// dashboard can put the truth next to what a vLLM version reported.

import type { CounterSeries, FamilyDef } from "../metrics/metric-family.ts";
import type { PrometheusStatLogger } from "../metrics/prometheus-stat-logger.ts";
import { ENGINE_LABEL_NAMES } from "../metrics/vllm-families.ts";
import type { PrefillSources, RecomputedTokens } from "./ledger.ts";
import { RECOMPUTE_REASONS } from "./ledger.ts";
import { PROMPT_SOURCES, type PromptSource } from "./prompt-source-counters.ts";

export const TRUTH_FAMILIES: readonly FamilyDef[] = [
  {
    name: "pdsim:prompt_tokens_by_source_total",
    help: "Prompt tokens of the prefill that produced each request's first token on this instance, by where their KV came from (ground truth: the sources sum to the prompt length).",
    type: "counter",
    labelNames: [...ENGINE_LABEL_NAMES, "source"],
  },
  {
    name: "pdsim:prompt_tokens_recomputed_total",
    help: "Prompt tokens computed on this instance although their KV was, or had been, available, by reason.",
    type: "counter",
    labelNames: [...ENGINE_LABEL_NAMES, "reason"],
  },
];

interface Bound {
  bySource: Record<PromptSource, CounterSeries>;
  recomputed: Record<(typeof RECOMPUTE_REASONS)[number], CounterSeries>;
}

/** Recorded once, by the first exposition; every other exposition of the instance shows the same families. */
export class TruthMetrics {
  private readonly bound: Bound;

  constructor(loggers: readonly PrometheusStatLogger[]) {
    const [recorder, ...others] = loggers;
    if (recorder === undefined) throw new Error("TruthMetrics: no exposition to record into");
    const families = TRUTH_FAMILIES.map((def) => recorder.addFamily(def));
    for (const logger of others) for (const family of families) logger.adoptFamily(family);
    this.bound = {
      bySource: Object.fromEntries(
        PROMPT_SOURCES.map((source) => [
          source,
          recorder.bind("pdsim:prompt_tokens_by_source_total", "counter", { source }),
        ]),
      ) as Bound["bySource"],
      recomputed: Object.fromEntries(
        RECOMPUTE_REASONS.map((reason) => [
          reason,
          recorder.bind("pdsim:prompt_tokens_recomputed_total", "counter", { reason }),
        ]),
      ) as Bound["recomputed"],
    };
  }

  recordTruth(truth: PrefillSources): void {
    for (const source of PROMPT_SOURCES) this.bound.bySource[source].inc(truth[source]);
  }

  recordRecomputed(recomputed: RecomputedTokens): void {
    for (const reason of RECOMPUTE_REASONS) this.bound.recomputed[reason].inc(recomputed[reason]);
  }
}
