// The per-label-set values behind each Prometheus family, mirroring the children of
// prometheus_client's Counter, Gauge and Histogram that vLLM binds; leaves out `_created`
// samples (wall-clock timestamps), exemplars and multiprocess modes.
//
// A client library's metrics re-hash and re-validate their labels on every update (prom-client:
// about 200–300 ns each, and there is one histogram observation per generated token), so the
// values live here as plain numbers, bound once per label set, and text-format.ts renders them.

import { type Labels, type Sample, renderLabels } from "./text-format.ts";

export type { Labels, Sample };
export type FamilyType = "counter" | "gauge" | "histogram";

export interface FamilyDef {
  /** The name as exposed: counters already carry the `_total` that prometheus_client appends. */
  readonly name: string;
  readonly help: string;
  readonly type: FamilyType;
  readonly labelNames: readonly string[];
  /** Histogram upper bounds in increasing order, without +Inf. */
  readonly buckets?: readonly number[];
}

export class CounterSeries {
  value = 0;

  constructor(
    private readonly family: string,
    readonly labels: Labels,
  ) {}

  inc(amount = 1): void {
    // prometheus_client's wording: this is how vLLM fails on a negative prompt-token count.
    if (!(amount >= 0)) {
      throw new Error(
        `Counters can only be incremented by non-negative amounts: ${this.family}${renderLabels(this.labels)} += ${amount}`,
      );
    }
    this.value += amount;
  }
}

export class GaugeSeries {
  value = 0;

  constructor(readonly labels: Labels) {}

  set(value: number): void {
    this.value = value;
  }
}

export class HistogramSeries {
  /** Per bucket, not cumulative; the last entry is the +Inf bucket. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    private readonly family: string,
    readonly labels: Labels,
    readonly upperBounds: readonly number[],
  ) {
    this.counts = new Float64Array(upperBounds.length + 1);
  }

  observe(value: number): void {
    if (Number.isNaN(value)) {
      throw new Error(`Histogram observation is NaN: ${this.family}${renderLabels(this.labels)}`);
    }
    // Upper bounds are inclusive (`le`), as in every Prometheus client.
    const bounds = this.upperBounds;
    let bucket = 0;
    while (bucket < bounds.length && value > bounds[bucket]!) bucket += 1;
    this.counts[bucket]! += 1;
    this.sum += value;
    this.count += 1;
  }

  /**
   * `observe` of each value in order (the sum adds them in the same order, so it is the same
   * number): one call per engine step for the per-token inter-token latencies.
   */
  observeAll(values: readonly number[]): void {
    for (let i = 0; i < values.length; i++) this.observe(values[i]!);
  }
}

type SeriesOf<T extends FamilyType> = {
  counter: CounterSeries;
  gauge: GaugeSeries;
  histogram: HistogramSeries;
}[T];

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** One family and its series, in creation order, which is also exposition order. */
export class MetricFamily<T extends FamilyType = FamilyType> {
  readonly name: string;
  readonly help: string;
  readonly type: T;
  private readonly children: SeriesOf<T>[] = [];
  private readonly keys = new Set<string>();
  /** `sampleKeys()`, rendered for the first `keyedSeries` series. */
  private renderedKeys: readonly string[] = [];
  private keyedSeries = 0;

  constructor(readonly def: FamilyDef & { readonly type: T }) {
    const badLabel = def.labelNames.find((label) => !LABEL_NAME.test(label) || label === "le");
    if (!METRIC_NAME.test(def.name) || badLabel !== undefined) {
      throw new Error(`invalid family ${def.name} with labels [${def.labelNames.join(", ")}]`);
    }
    if (def.type === "histogram" && (def.buckets === undefined || !isIncreasing(def.buckets))) {
      throw new Error(`histogram ${def.name} needs increasing buckets, got [${def.buckets}]`);
    }
    this.name = def.name;
    this.help = def.help;
    this.type = def.type;
  }

  /** Creates the series for one label set; its value is exposed (at 0) from now on. */
  labels(values: Labels): SeriesOf<T> {
    const ordered = this.orderLabels(values);
    const key = JSON.stringify(Object.values(ordered));
    if (this.keys.has(key)) throw new Error(`${this.name}${renderLabels(ordered)} bound twice`);
    this.keys.add(key);
    const series = this.createSeries(ordered);
    this.children.push(series);
    return series;
  }

  sampleNames(): string[] {
    if (this.type !== "histogram") return [this.name];
    return [`${this.name}_bucket`, `${this.name}_sum`, `${this.name}_count`];
  }

  samples(): Sample[] {
    const out: Sample[] = [];
    for (const series of this.children) {
      if (series instanceof HistogramSeries) pushHistogramSamples(out, this.name, series);
      else out.push({ name: this.name, labels: series.labels, value: series.value });
    }
    return out;
  }

  /**
   * Each sample's name and labels as the text formats write them (`name{a="x"}`), in `samples()`
   * order. A series' labels never change, so they are rendered once, not at every exposition.
   */
  sampleKeys(): readonly string[] {
    if (this.keyedSeries !== this.children.length) {
      this.renderedKeys = this.samples().map((s) => s.name + renderLabels(s.labels));
      this.keyedSeries = this.children.length;
    }
    return this.renderedKeys;
  }

  /** Each sample's value, in `samples()` order. */
  sampleValues(): number[] {
    const out: number[] = [];
    for (const series of this.children) {
      if (!(series instanceof HistogramSeries)) {
        out.push(series.value);
        continue;
      }
      let cumulative = 0;
      for (const count of series.counts) out.push((cumulative += count));
      out.push(series.sum, series.count);
    }
    return out;
  }

  /**
   * Appends the values that may only grow (counter values; histogram per-bucket counts, sums and
   * counts), series in creation order; nothing for a gauge.
   */
  appendCumulativeValues(out: number[]): void {
    for (const series of this.children) {
      if (series instanceof CounterSeries) out.push(series.value);
      else if (series instanceof HistogramSeries)
        out.push(...series.counts, series.sum, series.count);
    }
  }

  private orderLabels(values: Labels): Labels {
    const names = this.def.labelNames;
    const ordered: Record<string, string> = {};
    for (const name of names) {
      const value = values[name];
      if (typeof value === "string") ordered[name] = value;
    }
    if (
      Object.keys(ordered).length !== names.length ||
      Object.keys(values).length !== names.length
    ) {
      throw new Error(`${this.name} has labels [${names.join(", ")}], got ${renderLabels(values)}`);
    }
    return ordered;
  }

  private createSeries(labels: Labels): SeriesOf<T> {
    const series =
      this.def.type === "counter"
        ? new CounterSeries(this.name, labels)
        : this.def.type === "gauge"
          ? new GaugeSeries(labels)
          : new HistogramSeries(this.name, labels, this.def.buckets ?? []);
    return series as SeriesOf<T>;
  }
}

function pushHistogramSamples(out: Sample[], name: string, series: HistogramSeries): void {
  let cumulative = 0;
  series.counts.forEach((count, i) => {
    cumulative += count;
    const bound = series.upperBounds[i];
    const le = bound === undefined ? "+Inf" : String(bound);
    out.push({ name: `${name}_bucket`, labels: { ...series.labels, le }, value: cumulative });
  });
  out.push({ name: `${name}_sum`, labels: series.labels, value: series.sum });
  out.push({ name: `${name}_count`, labels: series.labels, value: series.count });
}

function isIncreasing(values: readonly number[]): boolean {
  return values.length > 0 && values.every((v, i) => i === 0 || v > (values[i - 1] ?? -Infinity));
}
