// What a Prometheus server scraping every instance at a fixed interval of simulated time would
// have stored: each instance's selected exposition, sample by sample, at every scrape. Rendered
// as OpenMetrics text with sample timestamps, grouped as the format wants (one block per
// family, each series' points in time order), for `promtool tsdb create-blocks-from openmetrics`.

import type { SimTime } from "../../sim/index.ts";
import type { Labels, MetricFamily } from "./metric-family.ts";
import { escapeOpenMetricsHelp, formatValue, renderLabels } from "./text-format.ts";
import type { PrometheusStatLogger } from "./prometheus-stat-logger.ts";

export interface ScrapeTarget {
  /** The `instance` label Prometheus adds. */
  instance: string;
  exposition: PrometheusStatLogger;
}

interface SeriesPoints {
  sampleName: string;
  labels: Labels;
  /** The scrape it first appeared at; values from there on, one per scrape. */
  firstScrape: number;
  values: number[];
}

interface FamilyPoints {
  family: MetricFamily;
  /** Per target, by series key. */
  series: Map<string, SeriesPoints>[];
  /**
   * Per target, the series in the order the family lists its samples. A family only ever adds
   * series, after the ones it has, so a scrape matches its samples to these by position and
   * looks up (by key) only the samples past the end.
   */
  inOrder: SeriesPoints[][];
}

export interface OpenMetricsOptions {
  /** Wall-clock milliseconds since the epoch at simulated time 0. */
  startMs: number;
  /** The `job` label Prometheus adds. */
  job: string;
}

export class SeriesRecorder {
  private readonly times: SimTime[] = [];
  private readonly families = new Map<string, FamilyPoints>();

  constructor(private readonly targets: readonly ScrapeTarget[]) {}

  get numScrapes(): number {
    return this.times.length;
  }

  get lastScrapeTime(): SimTime | null {
    return this.times.at(-1) ?? null;
  }

  /**
   * Records every target's samples at `time`, which must not be before the last scrape. Prometheus
   * keeps milliseconds: a scrape in the same millisecond as the last replaces it.
   */
  scrape(time: SimTime): void {
    const last = this.lastScrapeTime;
    if (last !== null && time < last) {
      throw new Error(`SeriesRecorder.scrape: ${time} µs is before the last scrape (${last} µs)`);
    }
    if (last !== null && Math.floor(time / 1000) === Math.floor(last / 1000)) this.dropLastScrape();
    const index = this.times.length;
    this.times.push(time);
    this.targets.forEach((target, t) => {
      for (const { family, samples } of target.exposition.familySamples()) {
        let points = this.families.get(family.name);
        if (points === undefined) {
          points = {
            family,
            series: this.targets.map(() => new Map()),
            inOrder: this.targets.map(() => []),
          };
          this.families.set(family.name, points);
        }
        const byKey = points.series[t]!;
        const inOrder = points.inOrder[t]!;
        samples.forEach((sample, i) => {
          let series = inOrder[i];
          if (series === undefined || series.sampleName !== sample.name) {
            const key = `${sample.name}${JSON.stringify(sample.labels)}`;
            series = byKey.get(key);
            if (series === undefined) {
              series = {
                sampleName: sample.name,
                labels: sample.labels,
                firstScrape: index,
                values: [],
              };
              byKey.set(key, series);
            }
            inOrder[i] = series;
          }
          series.values.push(sample.value);
        });
      }
    });
  }

  private dropLastScrape(): void {
    const index = this.times.length - 1;
    this.times.pop();
    for (const points of this.families.values()) {
      for (const byKey of points.series) {
        for (const [key, s] of byKey) {
          if (s.firstScrape === index) byKey.delete(key);
          else s.values.pop();
        }
      }
      points.inOrder = points.inOrder.map((list) => list.filter((s) => s.firstScrape !== index));
    }
  }

  /** The simulated time of each scrape. */
  get scrapeTimes(): readonly SimTime[] {
    return this.times;
  }

  /**
   * Per scrape, the sum over target `target`'s series of sample `sampleName` whose labels
   * include `labels` (0 before such a series appeared).
   */
  sum(target: number, sampleName: string, labels: Labels = {}): number[] {
    const out = this.times.map(() => 0);
    for (const { series } of this.families.values()) {
      for (const s of series[target]!.values()) {
        if (s.sampleName !== sampleName) continue;
        if (!Object.entries(labels).every(([k, v]) => s.labels[k] === v)) continue;
        s.values.forEach((v, i) => (out[s.firstScrape + i]! += v));
      }
    }
    return out;
  }

  /**
   * Writes the OpenMetrics text, ending with `# EOF`, a line at a time: a family holds every
   * scrape of every target, and built whole it would be most of a long run's peak memory
   * (docs/performance.md, change 29). `write` is expected to buffer (OutputDir.writeStreamed does).
   */
  writeOpenMetrics(write: (chunk: string) => void, options: OpenMetricsOptions): void {
    const stamps = this.times.map((t) => formatTimestamp(options.startMs, t));
    for (const { family, series } of this.families.values()) {
      const name = family.type === "counter" ? family.name.replace(/_total$/, "") : family.name;
      write(`# HELP ${name} ${escapeOpenMetricsHelp(family.help)}\n`);
      write(`# TYPE ${name} ${family.type}\n`);
      this.targets.forEach((target, t) => {
        const extra = { instance: target.instance, job: options.job };
        // A histogram's point is its buckets, count and sum at one time, in that order.
        for (const group of pointGroups([...series[t]!.values()])) {
          const first = group[0]!.firstScrape;
          // A series' name and labels are the same at every scrape: render them once.
          const names = group.map(
            (s) => `${s.sampleName}${renderLabels({ ...s.labels, ...extra })} `,
          );
          for (let i = first; i < this.times.length; i++) {
            group.forEach((s, k) => {
              write(`${names[k]}${formatValue(s.values[i - s.firstScrape]!)} ${stamps[i]}\n`);
            });
          }
        }
      });
    }
    write("# EOF\n");
  }
}

/** Series grouped into points: a histogram's series of one label set, else one series each. */
function pointGroups(series: SeriesPoints[]): SeriesPoints[][] {
  const groups = new Map<string, SeriesPoints[]>();
  for (const s of series) {
    const { le: _le, ...rest } = s.labels;
    const key = JSON.stringify(rest);
    const group = groups.get(key) ?? [];
    group.push(s);
    groups.set(key, group);
  }
  // Buckets first (in bound order, as created), then _count, then _sum.
  const rank = (s: SeriesPoints) =>
    s.sampleName.endsWith("_count") ? 1 : s.sampleName.endsWith("_sum") ? 2 : 0;
  return [...groups.values()].map((g) =>
    g
      .map((s, i) => ({ s, i }))
      .sort((a, b) => rank(a.s) - rank(b.s) || a.i - b.i)
      .map(({ s }) => s),
  );
}

/** Seconds since the epoch with millisecond precision, as Prometheus stores them. */
function formatTimestamp(startMs: number, time: SimTime): string {
  const ms = startMs + Math.floor(time / 1000);
  const seconds = Math.floor(ms / 1000);
  const rest = ms - seconds * 1000;
  return rest === 0 ? String(seconds) : `${seconds}.${String(rest).padStart(3, "0")}`;
}
