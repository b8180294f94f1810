// pdsim's ground-truth prompt families, exported beside every profile's vllm: families so a
// dashboard can put the truth next to what a vLLM version reported.

import type { CounterSeries, FamilyDef } from "./metric-family.ts";
import { PROMPT_SOURCES, type PromptSource } from "./prompt-source-counters.ts";
import type { PrefillSources, RecomputedTokens } from "./ledger.ts";
import { RECOMPUTE_REASONS } from "./ledger.ts";
import type { PrometheusStatLogger } from "./prometheus-stat-logger.ts";
import { ENGINE_LABEL_NAMES } from "./vllm-families.ts";

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

export class TruthMetrics {
  private readonly bound: Bound[];

  constructor(loggers: readonly PrometheusStatLogger[]) {
    this.bound = loggers.map((logger) => {
      for (const def of TRUTH_FAMILIES) logger.addFamily(def);
      return {
        bySource: Object.fromEntries(
          PROMPT_SOURCES.map((source) => [
            source,
            logger.bind("pdsim:prompt_tokens_by_source_total", "counter", { source }),
          ]),
        ) as Bound["bySource"],
        recomputed: Object.fromEntries(
          RECOMPUTE_REASONS.map((reason) => [
            reason,
            logger.bind("pdsim:prompt_tokens_recomputed_total", "counter", { reason }),
          ]),
        ) as Bound["recomputed"],
      };
    });
  }

  recordTruth(truth: PrefillSources): void {
    for (const b of this.bound)
      for (const source of PROMPT_SOURCES) b.bySource[source].inc(truth[source]);
  }

  recordRecomputed(recomputed: RecomputedTokens): void {
    for (const b of this.bound) {
      for (const reason of RECOMPUTE_REASONS) b.recomputed[reason].inc(recomputed[reason]);
    }
  }
}
