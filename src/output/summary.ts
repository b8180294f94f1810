// Builds summary.json: run info and per-instance totals read back from each instance's exported
// metrics, so the summary shows exactly what a scrape would.

import type { ClusterCore, ClusterRunResult } from "../cluster/cluster-core.ts";
import type { Instance } from "../cluster/instance.ts";
import { FINISH_REASONS, type FinishReason } from "../engine/request-status.ts";
import type { ExpectationResult } from "../scenario/expectations.ts";
import type { InstanceExporterError } from "../cluster/instance.ts";
import type { ProfileName } from "../accounting/profiles.ts";
import { usToSeconds } from "../../sim/index.ts";

export interface InstanceTotals {
  name: string;
  role: string;
  requests_finished: Record<FinishReason, number>;
  prompt_tokens: number;
  /** Ground truth: prompt tokens computed in the prefills that produced a first token here. */
  prompt_tokens_computed: number;
  /** What the selected profile's vllm:request_prefill_kv_computed_tokens says was computed. */
  prompt_tokens_computed_reported: number;
  generation_tokens: number;
  prefix_cache_queries: number;
  prefix_cache_hits: number;
  prefix_cache_hit_rate: number;
  preemptions: number;
  engine_steps: number;
}

export interface RunSummary {
  scenario: { name: string; file: string };
  seed: number;
  /** The selected accounting profile: the one the vllm: families of metrics/<instance>.prom follow. */
  profile: string;
  /** Every profile exported (more than one with --profile all). */
  profiles: string[];
  simulated_seconds: number;
  /** The only field that differs between two runs of the same scenario and seed. */
  wall_seconds: number;
  events: number;
  requests: { arrived: number; finished: number; by_finish_reason: Record<FinishReason, number> };
  instances: InstanceTotals[];
  /**
   * Each external KV cache tier (`name@instance` for an instance-scoped one), in tokens: stored −
   * evicted = resident. Present only when the scenario has tiers.
   */
  kv_cache_tiers?: TierTotals[];
  expectations: { instance: string; metric: string; actual: number | null; passed: boolean }[];
  /** Increments the profiles' exporters would have refused, and the requests behind them. */
  exporter_errors: {
    time_s: number;
    instance: string;
    profile: string;
    metric: string;
    amount: number;
    request_ids: string[];
  }[];
}

export interface TierTotals {
  name: string;
  capacity_tokens: number;
  stored_tokens: number;
  loaded_tokens: number;
  evicted_tokens: number;
  resident_tokens: number;
  stores_refused: number;
}

function tierTotals(cluster: ClusterCore): TierTotals[] {
  return [...cluster.tiers.values()].map((tier) => {
    const t = tier.totals;
    return {
      name: tier.name,
      capacity_tokens: tier.capacityChunks * tier.chunkTokens,
      stored_tokens: t.storedTokens,
      loaded_tokens: t.loadedTokens,
      evicted_tokens: t.evictedTokens,
      resident_tokens: t.residentTokens,
      stores_refused: t.storesRefused,
    };
  });
}

export function instanceTotals(instance: Instance): InstanceTotals {
  const p = instance.statLoggers.prometheus;
  const value = (name: string, labels: Record<string, string> = {}) =>
    p.sampleValue(name, labels) ?? 0;
  const queries = value("vllm:prefix_cache_queries_total");
  const hits = value("vllm:prefix_cache_hits_total");
  const requestsFinished = Object.fromEntries(
    FINISH_REASONS.map((r) => [r, value("vllm:request_success_total", { finished_reason: r })]),
  ) as Record<FinishReason, number>;
  return {
    name: instance.name,
    role: instance.role,
    requests_finished: requestsFinished,
    prompt_tokens: value("vllm:prompt_tokens_total"),
    prompt_tokens_computed: value("pdsim:prompt_tokens_by_source_total", {
      source: "local_compute",
    }),
    prompt_tokens_computed_reported: value("vllm:request_prefill_kv_computed_tokens_sum"),
    generation_tokens: value("vllm:generation_tokens_total"),
    prefix_cache_queries: queries,
    prefix_cache_hits: hits,
    prefix_cache_hit_rate: queries === 0 ? 0 : hits / queries,
    preemptions: value("vllm:num_preemptions_total"),
    engine_steps: instance.engine.numSteps,
  };
}

export function buildSummary(args: {
  cluster: ClusterCore;
  result: ClusterRunResult;
  byFinishReason: Record<FinishReason, number>;
  profiles: readonly ProfileName[];
  seed: number;
  wallSeconds: number;
  expectations: readonly ExpectationResult[];
  exporterErrors: readonly InstanceExporterError[];
}): RunSummary {
  const { cluster, result } = args;
  return {
    scenario: { name: cluster.scenario.name, file: cluster.scenario.file },
    seed: args.seed,
    profile: args.profiles[0]!,
    profiles: [...args.profiles],
    simulated_seconds: usToSeconds(result.lastFinishTime),
    wall_seconds: args.wallSeconds,
    events: result.events,
    requests: {
      arrived: result.requestsArrived,
      finished: result.requestsFinished,
      by_finish_reason: args.byFinishReason,
    },
    instances: cluster.instances.map(instanceTotals),
    ...(cluster.tiers.size === 0 ? {} : { kv_cache_tiers: tierTotals(cluster) }),
    expectations: args.expectations.map((r) => ({
      instance: r.expectation.instance,
      metric: r.expectation.metric,
      actual: r.actual ?? null,
      passed: r.passed,
    })),
    exporter_errors: args.exporterErrors.map((e) => ({
      time_s: usToSeconds(e.time),
      instance: e.instance,
      profile: e.profile,
      metric: e.metric,
      amount: e.amount,
      request_ids: e.requestIds,
    })),
  };
}
