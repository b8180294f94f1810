// One run of a sweep, wherever it runs (in-process, a worker thread, a queue worker): the
// variant's scenario simulated with its seed as `pdsim run` simulates it, and the collected
// values read from what `pdsim run` would write (summary.json, each instance's metrics, the
// request records), so that a row equals what `pdsim run` reports for the same scenario.
import { PROFILE_LIST, PROFILES } from "../accounting/profiles.ts";
import { Cluster } from "../cluster/cluster.ts";
import type { ClusterObserver } from "../cluster/observer.ts";
import type { RequestRecord } from "../cluster/request-record.ts";
import { FINISH_REASONS, type FinishReason } from "../engine/request-status.ts";
import { buildSummary } from "../output/summary.ts";
import { resolveScenarioData } from "../scenario/index.ts";
import type { RunSpec } from "./run-spec.ts";
import type { LatencyColumn, MetricCollect, SweepFile } from "./sweep-schema.ts";

export type Collect = SweepFile["collect"];

/** What one run gives back: its collected values by column, or the error it ended with. */
export interface RunResult {
  key: string;
  index: number;
  status: "ok" | "failed";
  error?: string;
  /** Wall time of the run alone, in seconds. */
  wall_s: number;
  values: Record<string, number | null>;
}

/** `clock`: the wall clock in milliseconds, from the caller (the simulation never reads one). */
export function runOne(spec: RunSpec, collect: Collect, clock: () => number): RunResult {
  const start = clock();
  const elapsed = () => Math.round(clock() - start) / 1000;
  try {
    const values = simulate(spec, collect);
    return { key: spec.key, index: spec.index, status: "ok", wall_s: elapsed(), values };
  } catch (error) {
    return {
      key: spec.key,
      index: spec.index,
      status: "failed",
      error: error instanceof Error ? error.message : String(error),
      wall_s: elapsed(),
      values: {},
    };
  }
}

function simulate(spec: RunSpec, collect: Collect): Record<string, number | null> {
  const scenario = resolveScenarioData(spec.scenario, spec.scenarioFile);
  const records: RequestRecord[] = [];
  const gapsMs: number[] = [];
  const byFinishReason = Object.fromEntries(FINISH_REASONS.map((r) => [r, 0])) as Record<
    FinishReason,
    number
  >;
  const cluster = new Cluster(
    scenario,
    spec.seed,
    {
      onRequestFinished: (r) => {
        records.push(r);
        byFinishReason[r.finish_reason] += 1;
      },
      ...(collect.latency.some((c) => c.startsWith("itl")) ? tokenGaps(gapsMs) : {}),
    },
    [PROFILES[scenario.metrics.profile]],
  );
  const result = cluster.run();
  const summary = buildSummary({
    cluster,
    result,
    byFinishReason,
    profiles: [scenario.metrics.profile],
    seed: spec.seed,
    wallSeconds: 0,
    expectations: [],
    exporterErrors: [],
  });
  const values: Record<string, number | null> = {};
  for (const path of collect.summary) values[path] = summaryField(summary, path);
  for (const m of collect.metrics) values[metricColumn(m)] = metricValue(cluster, m);
  const latencies = latencySamples(records, gapsMs);
  for (const column of collect.latency) values[column] = latency(latencies, column);
  if (collect.truth_vs_reported) Object.assign(values, driftByProfile(records));
  return values;
}

/**
 * An observer that adds to `gapsMs` every gap between two tokens of one request on the instance
 * that generated them: the inter-token latencies `vllm bench serve` reports.
 */
export function tokenGaps(gapsMs: number[]): Required<Pick<ClusterObserver, "onEngineStep">> {
  const lastToken = new Map<string, number>();
  return {
    onEngineStep: (instance, step) => {
      const t = step.outputs.timestamp;
      for (const o of step.outputs.outputs) {
        if (o.numNewTokens === 0) continue;
        const id = `${instance.name}\u0000${o.requestId}`;
        const before = lastToken.get(id);
        if (before !== undefined) gapsMs.push((t - before) / 1000);
        lastToken.set(id, t);
      }
    },
  };
}

/** A field of summary.json by dotted path; an instance in `instances` by its name. */
export function summaryField(summary: unknown, path: string): number | null {
  let node: unknown = summary;
  for (const segment of path.split(".")) {
    if (Array.isArray(node)) node = node.find((i) => (i as { name?: unknown }).name === segment);
    else if (typeof node === "object" && node !== null)
      node = (node as Record<string, unknown>)[segment];
    else return null;
  }
  return typeof node === "number" ? node : null;
}

/** The collected columns in order: summary fields, metrics, latencies, drifts by profile. */
export function collectedColumns(collect: Collect): string[] {
  return [
    ...collect.summary,
    ...collect.metrics.map(metricColumn),
    ...collect.latency,
    ...(collect.truth_vs_reported ? PROFILE_LIST.map((p) => `drift_local_compute.${p.name}`) : []),
  ];
}

export function metricColumn(m: MetricCollect): string {
  if (m.name !== undefined) return m.name;
  if (m.instance !== undefined) return `${m.metric.metric}@${m.instance}`;
  return m.role === undefined ? m.metric.metric : `${m.metric.metric}@${m.role}`;
}

/** One instance's sample, or the sum over a role's instances or over every instance. */
function metricValue(cluster: Cluster, m: MetricCollect): number | null {
  const instances = cluster.instances.filter(
    (i) =>
      (m.instance === undefined || i.name === m.instance) &&
      (m.role === undefined || i.role === m.role),
  );
  if (instances.length === 0) return null;
  let sum = 0;
  for (const instance of instances) {
    const v = instance.statLoggers.prometheus.sampleValue(
      m.metric.selector.name,
      m.metric.selector.labels,
    );
    if (v === undefined) return null;
    sum += v;
  }
  return sum;
}

interface LatencySamples {
  ttft: number[];
  tpot: number[];
  itl: number[];
  e2e: number[];
}

/** In milliseconds, from the request records as requests.jsonl holds them. */
function latencySamples(records: readonly RequestRecord[], itl: number[]): LatencySamples {
  const ttft: number[] = [];
  const tpot: number[] = [];
  const e2e: number[] = [];
  for (const r of records) {
    if (r.first_token_s === null) continue;
    ttft.push((r.first_token_s - r.arrival_s) * 1000);
    e2e.push((r.finish_s - r.arrival_s) * 1000);
    const outputs = r.legs.at(-1)?.num_output_tokens ?? 0;
    if (outputs > 1) tpot.push(((r.finish_s - r.first_token_s) * 1000) / (outputs - 1));
  }
  return { ttft, tpot, itl, e2e };
}

function latency(samples: LatencySamples, column: LatencyColumn): number | null {
  const [kind, stat] = column.split("_") as [keyof LatencySamples, string];
  const values = samples[kind];
  if (values.length === 0) return null;
  const ms =
    stat === "mean"
      ? values.reduce((a, b) => a + b, 0) / values.length
      : percentile(values, Number(stat.slice(1)));
  // To the nanosecond: the clock ticks in microseconds, and the seconds' float noise goes.
  return Math.round(ms * 1e6) / 1e6;
}

/** numpy's default percentile (linear between the closest ranks), as vllm bench serve reports. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

/**
 * For each accounting profile, the local compute it reports over every leg less the truth's:
 * how far that vLLM version's numbers drift. The oldest version reports only a prompt
 * throughput, which counts every prompt token as computed.
 */
function driftByProfile(records: readonly RequestRecord[]): Record<string, number> {
  const drift: Record<string, number> = {};
  for (const profile of PROFILE_LIST) {
    let total = 0;
    for (const r of records) {
      for (const leg of r.legs) {
        // A leg refused before its prefill has no sources.
        if (leg.reported === null || leg.truth === null) continue;
        const reported = leg.reported[profile.name];
        if (reported === undefined) continue;
        const computed =
          "local_compute" in reported ? reported.local_compute : reported.prompt_throughput_tokens;
        total += computed - leg.truth.local_compute;
      }
    }
    drift[`drift_local_compute.${profile.name}`] = total;
  }
  return drift;
}
