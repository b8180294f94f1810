// What DIR/report.html draws, gathered during a run: per instance, the scraped series turned
// into rates per interval (prompt tokens by source in truth and as the selected version reports
// them, hit rates) and gauges (KV usage, running, waiting); per request, the sources on each
// instance of the first requests to finish; and the spans of a few P/D requests.

import { usToSeconds } from "../../sim/index.ts";
import type { RequestRecord } from "../cluster/request-record.ts";
import { ChurnMap } from "../util/churn-map.ts";
import type { TransferRecord } from "../kv-transfer/transfer-fabric.ts";
import type { ProfileName } from "../accounting/profiles.ts";
import { PROMPT_SOURCES } from "../accounting/prompt-source-counters.ts";
import type { SeriesRecorder } from "../metrics/series-recorder.ts";

/** Requests (the first to finish) drawn as stacked bars of their sources on each instance. */
export const REPORT_REQUESTS = 40;
/** P/D requests drawn on the timeline. */
export const REPORT_TIMELINE_REQUESTS = 8;

export type Source = (typeof PROMPT_SOURCES)[number];

export interface InstanceSeries {
  name: string;
  role: string;
  /** Prompt tokens per second over each interval, by source. */
  truth: Record<Source, number[]>;
  /** The selected version's split, or null for a version without one (then `reportedTotal`). */
  reported: Record<Source, number[]> | null;
  reportedTotal: number[];
  /** Hits over queries in each interval, null where nothing was queried. */
  prefixHitRate: (number | null)[];
  externalHitRate: (number | null)[];
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
  /** End of each interval between scrapes, in simulated seconds. */
  times: number[];
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
    series: SeriesRecorder,
    instances: readonly { name: string; role: string }[],
    header: { scenario: string; profile: ProfileName; seed: number; hasSplit: boolean },
  ): ReportData {
    const times = series.scrapeTimes.map(usToSeconds);
    const perSecond = (cumulative: number[]) =>
      cumulative.slice(1).map((v, i) => (v - cumulative[i]!) / (times[i + 1]! - times[i]!));
    const deltas = (cumulative: number[]) => cumulative.slice(1).map((v, i) => v - cumulative[i]!);
    const ratio = (hits: number[], queries: number[]) =>
      deltas(queries).map((q, i) => (q > 0 ? deltas(hits)[i]! / q : null));
    return {
      scenario: header.scenario,
      profile: header.profile,
      seed: header.seed,
      times: times.slice(1),
      instances: instances.map((instance, t) => {
        const sources = (sampleName: string) =>
          Object.fromEntries(
            PROMPT_SOURCES.map((source) => [
              source,
              perSecond(series.sum(t, sampleName, { source })),
            ]),
          ) as Record<Source, number[]>;
        const gauge = (sampleName: string) => series.sum(t, sampleName).slice(1);
        return {
          name: instance.name,
          role: instance.role,
          truth: sources("pdsim:prompt_tokens_by_source_total"),
          reported: header.hasSplit ? sources("vllm:prompt_tokens_by_source_total") : null,
          reportedTotal: perSecond(series.sum(t, "vllm:prompt_tokens_total")),
          prefixHitRate: ratio(
            series.sum(t, "vllm:prefix_cache_hits_total"),
            series.sum(t, "vllm:prefix_cache_queries_total"),
          ),
          externalHitRate: ratio(
            series.sum(t, "vllm:external_prefix_cache_hits_total"),
            series.sum(t, "vllm:external_prefix_cache_queries_total"),
          ),
          kvCacheUsage: gauge("vllm:kv_cache_usage_perc"),
          running: gauge("vllm:num_requests_running"),
          waiting: gauge("vllm:num_requests_waiting"),
        };
      }),
      requests: this.requests,
      spans: this.spans,
    };
  }
}
