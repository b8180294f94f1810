// What DIR/report.html and the playground's run view draw, gathered during a run: per instance,
// the report sampler's series turned into rates per interval (prompt tokens by source in truth
// and as the selected version reports them, hit rates) and gauges (KV usage, running, waiting);
// per request, the sources on each instance of the first requests to finish; and the spans of
// a few P/D requests.

import { type SimTime, usToSeconds } from "../../sim/index.ts";
import type { RequestRecord } from "../cluster/request-record.ts";
import { ChurnMap } from "../util/churn-map.ts";
import type { TransferRecord } from "../kv-transfer/transfer-fabric.ts";
import type { ProfileName } from "../accounting/profiles.ts";
import { PROMPT_SOURCES } from "../accounting/prompt-source-counters.ts";
import type { ReportSampler, SampledValues } from "./report-sampler.ts";

/** Requests (the first to finish) drawn as stacked bars of their sources on each instance. */
export const REPORT_REQUESTS = 40;
/** P/D requests drawn on the timeline. */
export const REPORT_TIMELINE_REQUESTS = 8;

export type Source = (typeof PROMPT_SOURCES)[number];

export interface InstanceSeries {
  name: string;
  role: string;
  /** Prompt tokens per second over each interval, by source (interval i ends at times[i + 1]). */
  truth: Record<Source, number[]>;
  /** The selected version's split, or null for a version without one (then `reportedTotal`). */
  reported: Record<Source, number[]> | null;
  reportedTotal: number[];
  /** Hits over queries in each interval, null where nothing was queried. */
  prefixHitRate: (number | null)[];
  externalHitRate: (number | null)[];
  /** Hits over queries since the start, at each sample time; null before the first query. */
  prefixHitRateSoFar: (number | null)[];
  externalHitRateSoFar: (number | null)[];
  /** Gauges: the highest value in each interval (they change at engine steps). */
  kvCacheUsage: number[];
  running: number[];
  waiting: number[];
}

export interface RequestSources {
  id: string;
  instance: string;
  sources: Record<Source, number>;
}

export interface Span {
  request: string;
  phase: "P queue" | "P prefill" | "transfer" | "D queue" | "D first step" | "decode";
  /** Simulated seconds. */
  from: number;
  to: number;
}

export interface ReportData {
  scenario: string;
  profile: ProfileName;
  seed: number;
  /**
   * The sample times in simulated seconds: 0, then every `intervalS`, and last `end`, where the
   * run's work ended (the last interval may be shorter).
   */
  times: number[];
  intervalS: number;
  end: number;
  instances: InstanceSeries[];
  requests: RequestSources[];
  spans: Span[];
}

/** Collects requests and transfers as the run goes; `build` then reads the scraped series. */
export class ReportCollector {
  private readonly requests: RequestSources[] = [];
  private readonly spans: Span[] = [];
  private timelineRequests = 0;
  private requestsKept = 0;
  /** Transfers of requests still in flight, for the timeline. */
  private readonly transfers = new ChurnMap<string, TransferRecord>();

  transfer(record: TransferRecord): void {
    if (this.timelineRequests < REPORT_TIMELINE_REQUESTS)
      this.transfers.set(record.requestId, record);
  }

  requestFinished(record: RequestRecord): void {
    const transfer = this.transfers.get(record.id);
    this.transfers.delete(record.id);
    if (this.requestsKept < REPORT_REQUESTS) {
      this.requestsKept += 1;
      for (const leg of record.legs) {
        if (leg.truth !== null)
          this.requests.push({ id: record.id, instance: leg.instance, sources: { ...leg.truth } });
      }
    }
    const p = record.legs.find((l) => l.role === "prefill");
    const d = record.legs.find((l) => l.role === "decode");
    if (this.timelineRequests >= REPORT_TIMELINE_REQUESTS || p === undefined || d === undefined)
      return;
    this.timelineRequests += 1;
    const span = (phase: Span["phase"], from: number | null, to: number | null) => {
      if (from !== null && to !== null && to >= from)
        this.spans.push({ request: record.id, phase, from, to });
    };
    span("P queue", p.arrival_s, p.first_scheduled_s);
    span("P prefill", p.first_scheduled_s, p.first_token_s);
    if (transfer !== undefined)
      span("transfer", usToSeconds(transfer.startTime), usToSeconds(transfer.endTime));
    span("D queue", d.arrival_s, d.first_scheduled_s);
    span("D first step", d.first_scheduled_s, d.first_token_s);
    span("decode", d.first_token_s, d.last_token_s);
  }

  build(
    sampler: ReportSampler,
    end: SimTime,
    instances: readonly { name: string; role: string }[],
    header: { scenario: string; profile: ProfileName; seed: number; hasSplit: boolean },
  ): ReportData {
    const sampled = sampler.finish(end);
    const times = sampled.times.map(usToSeconds);
    const deltas = (cumulative: number[]) => cumulative.slice(1).map((v, i) => v - cumulative[i]!);
    const perSecond = (cumulative: number[]) =>
      deltas(cumulative).map((d, i) => d / (times[i + 1]! - times[i]!));
    const ratio = (hits: number[], queries: number[]) => {
      const h = deltas(hits);
      return deltas(queries).map((q, i) => (q > 0 ? h[i]! / q : null));
    };
    const soFar = (hits: number[], queries: number[]) =>
      queries.map((q, i) => (q > 0 ? hits[i]! / q : null));
    const series = (sampledValues: SampledValues, name: string, role: string): InstanceSeries => {
      const values = (key: string) => sampledValues[key]!;
      const sources = (side: "truth" | "reported") =>
        Object.fromEntries(
          PROMPT_SOURCES.map((source) => [source, perSecond(values(`${side}:${source}`))]),
        ) as Record<Source, number[]>;
      return {
        name,
        role,
        truth: sources("truth"),
        reported: header.hasSplit ? sources("reported") : null,
        reportedTotal: perSecond(values("reportedTotal")),
        prefixHitRate: ratio(values("prefixHits"), values("prefixQueries")),
        externalHitRate: ratio(values("externalHits"), values("externalQueries")),
        prefixHitRateSoFar: soFar(values("prefixHits"), values("prefixQueries")),
        externalHitRateSoFar: soFar(values("externalHits"), values("externalQueries")),
        kvCacheUsage: values("peak:kvCacheUsage").slice(1),
        running: values("peak:running").slice(1),
        waiting: values("peak:waiting").slice(1),
      };
    };
    return {
      scenario: header.scenario,
      profile: header.profile,
      seed: header.seed,
      times,
      intervalS: usToSeconds(sampled.intervalUs),
      end: usToSeconds(end),
      instances: instances.map((instance, i) =>
        series(sampled.values[i]!, instance.name, instance.role),
      ),
      requests: this.requests,
      spans: this.spans,
    };
  }
}
