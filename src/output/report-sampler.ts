// The report's time series, sampled from every instance at a resolution that fits the run: the
// first sample before any event, then one every REPORT_FIRST_INTERVAL_US; whenever the samples pass
// REPORT_MAX_POINTS, every other one is dropped and the interval doubles. A run of any length
// so ends with between REPORT_MAX_POINTS / 2 and REPORT_MAX_POINTS intervals (fewer only when it
// is shorter than that many first intervals), and a last sample where the run's work ended.
// The Prometheus scrape series (metrics.om) is a different thing: it keeps the scenario's own
// scrape interval, as a real Prometheus server would.

import type { SimTime } from "../../sim/index.ts";
import type { RunSampler } from "../cluster/cluster-core.ts";
import type { Labels } from "../metrics/metric-family.ts";
import { PROMPT_SOURCES } from "../accounting/prompt-source-counters.ts";

export const REPORT_FIRST_INTERVAL_US = 1_000;
/** Even, so that the last sample of a full grid is kept when every other one is dropped. */
export const REPORT_MAX_POINTS = 240;

/** What the sampler reads: an instance's selected exposition. */
export interface SampledExposition {
  sampleValue(name: string, labels?: Labels): number | undefined;
}

/** The samples the report draws, in the order of a reading. */
const SAMPLED = [
  ...PROMPT_SOURCES.map((source) => ({
    key: `truth:${source}`,
    name: "pdsim:prompt_tokens_by_source_total",
    labels: { source },
  })),
  ...PROMPT_SOURCES.map((source) => ({
    key: `reported:${source}`,
    name: "vllm:prompt_tokens_by_source_total",
    labels: { source },
  })),
  { key: "reportedTotal", name: "vllm:prompt_tokens_total", labels: {} },
  { key: "prefixHits", name: "vllm:prefix_cache_hits_total", labels: {} },
  { key: "prefixQueries", name: "vllm:prefix_cache_queries_total", labels: {} },
  { key: "externalHits", name: "vllm:external_prefix_cache_hits_total", labels: {} },
  { key: "externalQueries", name: "vllm:external_prefix_cache_queries_total", labels: {} },
  { key: "kvCacheUsage", name: "vllm:kv_cache_usage_perc", labels: {} },
  { key: "running", name: "vllm:num_requests_running", labels: {} },
  { key: "waiting", name: "vllm:num_requests_waiting", labels: {} },
] as const;

/** The gauges whose highest value in each interval the report draws, in SAMPLED's order. */
const GAUGES = ["kvCacheUsage", "running", "waiting"] as const;
const GAUGE_INDEX = GAUGES.map((g) => SAMPLED.findIndex((s) => s.key === g));

/** What an engine step tells the sampler: the gauges it leaves behind. */
interface SteppedGauges {
  outputs: {
    schedulerStats: { kvCacheUsage: number; numRunningReqs: number; numWaitingReqs: number };
  };
}

export class ReportSampler implements RunSampler {
  private interval = REPORT_FIRST_INTERVAL_US;
  private readonly times: SimTime[] = [];
  /** Per sample, per instance, the values of SAMPLED in order. */
  private readonly readings: number[][][] = [];
  /** Per sample, per instance, each gauge's highest value over the interval that ends there. */
  private readonly peaks: number[][][] = [];
  /** Per instance, each gauge's highest value since the last sample, the value it had then included. */
  private peaksSince: number[][];
  private readonly indexOf: Map<string, number>;
  nextTime: SimTime = 0;

  /** Make it before the run starts: its first sample, at time 0, is the state before any event. */
  constructor(
    private readonly targets: readonly { name: string; exposition: SampledExposition }[],
  ) {
    this.indexOf = new Map(targets.map((t, i) => [t.name, i]));
    this.peaksSince = targets.map(() => GAUGES.map(() => 0));
    this.sample(0);
  }

  /** Gauges change only at engine steps: the highest of an interval is the highest a step left. */
  onEngineStep(instance: { name: string }, step: SteppedGauges): void {
    const peaks = this.peaksSince[this.indexOf.get(instance.name)!]!;
    const stats = step.outputs.schedulerStats;
    peaks[0] = Math.max(peaks[0]!, stats.kvCacheUsage);
    peaks[1] = Math.max(peaks[1]!, stats.numRunningReqs);
    peaks[2] = Math.max(peaks[2]!, stats.numWaitingReqs);
  }

  sample(time: SimTime): void {
    const reading = this.read();
    this.times.push(time);
    this.readings.push(reading);
    this.peaks.push(this.closePeaks(reading));
    if (this.times.length > REPORT_MAX_POINTS) {
      // The grid was k·interval for k = 0…MAX_POINTS: keep the even k, each with the peaks of
      // the two intervals it now ends.
      const keep = (_: unknown, i: number) => i % 2 === 0;
      const peaks = this.peaks
        .filter(keep)
        .map((p, k) => (k === 0 ? p : maxOf(p, this.peaks[2 * k - 1]!)));
      const times = this.times.filter(keep);
      const readings = this.readings.filter(keep);
      this.times.splice(0, Infinity, ...times);
      this.readings.splice(0, Infinity, ...readings);
      this.peaks.splice(0, Infinity, ...peaks);
      this.interval *= 2;
    }
    this.nextTime = time + this.interval;
  }

  /**
   * The samples up to `end`, where the run's work ended, with a last one there: nothing changes
   * after it, so the state read now is the state then.
   */
  finish(end: SimTime): { times: SimTime[]; intervalUs: number; values: SampledValues[] } {
    let n = this.times.length;
    while (n > 0 && this.times[n - 1]! > end) n -= 1;
    const times = this.times.slice(0, n);
    const readings = this.readings.slice(0, n);
    const peaks = this.peaks.slice(0, n);
    if (times.at(-1) !== end) {
      const reading = this.read();
      times.push(end);
      readings.push(reading);
      // A sample past the end covers the last interval's steps: none came after the end.
      peaks.push(n < this.times.length ? this.peaks[n]! : this.closePeaks(reading));
    }
    const values = this.targets.map((_, e) => ({
      ...Object.fromEntries(SAMPLED.map((s, k) => [s.key, readings.map((r) => r[e]![k]!)])),
      ...Object.fromEntries(GAUGES.map((g, k) => [`peak:${g}`, peaks.map((p) => p[e]![k]!)])),
    })) as SampledValues[];
    return { times, intervalUs: this.interval, values };
  }

  /** The peaks of the interval ending now; the next one starts from the gauges' values now. */
  private closePeaks(reading: number[][]): number[][] {
    const closed = this.peaksSince.map((peaks, e) =>
      peaks.map((p, k) => Math.max(p, reading[e]![GAUGE_INDEX[k]!]!)),
    );
    this.peaksSince = reading.map((values) => GAUGE_INDEX.map((i) => values[i]!));
    return closed;
  }

  private read(): number[][] {
    return this.targets.map(({ exposition }) =>
      SAMPLED.map((s) => exposition.sampleValue(s.name, s.labels) ?? 0),
    );
  }
}

const maxOf = (a: number[][], b: number[][]): number[][] =>
  a.map((row, e) => row.map((v, k) => Math.max(v, b[e]![k]!)));

/**
 * One instance's samples, by SAMPLED key, one value per sample time; and by `peak:GAUGE`, each
 * gauge's highest value over the interval ending at each sample time (the first: its value).
 */
export type SampledValues = Readonly<Record<string, number[]>>;
