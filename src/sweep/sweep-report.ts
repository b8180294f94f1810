// What report.html shows of a sweep, as plain data: for each collected column and each varied
// key, the column's mean and 95 % interval at each of the key's values; and the configurations
// (the varied values) ranked by the objective's mean over seeds.
import { meanInterval, type MeanInterval } from "./confidence.ts";
import { collectedColumns, type RunResult } from "./run-one.ts";
import { canonicalJson, type RunSpec } from "./run-spec.ts";
import { statusCounts, type StatusCounts } from "./runs-table.ts";
import type { Sweep } from "./sweep-file.ts";

/** A point's mean and interval; null where no run of it has a value. */
export type Point = MeanInterval | null;

export interface ChartSeries {
  /** The other key's value this line holds fixed; null for the one line of a chart. */
  label: string | null;
  /** Aligned with the chart's `xs`. */
  points: Point[];
}

export interface ColumnChart {
  column: string;
  key: string;
  /** Numbers on a linear axis when every value of the key is one; else labels in sweep order. */
  axis: "linear" | "category";
  xs: (number | string)[];
  /** The key one line a value of it stands for, when there is one. */
  lineKey: string | null;
  series: ChartSeries[];
  /** The keys whose values are pooled into each point, besides the seeds. */
  pooled: string[];
}

export interface BestRow {
  /** The configuration's value of each varied key, as text. */
  values: string[];
  interval: MeanInterval;
  /** Runs of the configuration, whatever their outcome. */
  runs: number;
}

export interface Objective {
  column: string;
  goal: "min" | "max";
  /** False when the sweep names no objective and the first collected column stands in. */
  named: boolean;
}

export interface SweepReportData {
  name: string;
  description: string;
  scenario: string;
  keys: string[];
  seeds: number;
  counts: StatusCounts;
  charts: ColumnChart[];
  /** Collected columns that no run has a value of: no chart. */
  emptyColumns: string[];
  objective: Objective | null;
  best: BestRow[];
  /** Configurations with at least one value of the objective. */
  ranked: number;
  configurations: number;
}

/** Lines are drawn one a value of the other key only up to this many values; past it, pooled. */
export const MAX_LINES = 8;
export const BEST_ROWS = 10;

/** A configuration's runs: the specs sharing one variant, in run order. */
interface Configuration {
  variant: Record<string, unknown>;
  specs: RunSpec[];
}

export function sweepReportData(
  sweep: Sweep,
  results: ReadonlyMap<string, RunResult>,
  scenario: string,
): SweepReportData {
  const okValue = (spec: RunSpec, column: string): number | null => {
    const result = results.get(spec.key);
    const v = result?.status === "ok" ? result.values[column] : null;
    return typeof v === "number" && Number.isFinite(v) ? v : null;
  };
  const columns = collectedColumns(sweep.collect);
  const withValues = columns.filter((c) => sweep.runs.some((s) => okValue(s, c) !== null));
  const byKey = new Map(sweep.keys.map((k) => [k, keyValues(sweep, k)]));
  const charts = withValues.flatMap((column) =>
    sweep.keys.map((key) => columnChart(sweep, column, key, byKey, (s) => okValue(s, column))),
  );
  const configurations = configurationsOf(sweep);
  const objective = objectiveOf(sweep, columns);
  const ranked =
    objective === null ? [] : rank(configurations, objective, (s) => okValue(s, objective.column));
  return {
    name: sweep.name,
    description: sweep.description,
    scenario,
    keys: sweep.keys,
    seeds: sweep.seeds.length,
    counts: statusCounts(sweep, results),
    charts,
    emptyColumns: columns.filter((c) => !withValues.includes(c)),
    objective,
    best: ranked.slice(0, BEST_ROWS).map(({ configuration, interval }) => ({
      values: sweep.keys.map((k) => label(configuration.variant[k])),
      interval,
      runs: configuration.specs.length,
    })),
    ranked: ranked.length,
    configurations: configurations.length,
  };
}

/** Each run's value of a key as an id, and the key's distinct values in first-run order. */
interface KeyValues {
  ids: string[];
  values: unknown[];
}

function keyValues(sweep: Sweep, key: string): KeyValues {
  const ids = sweep.runs.map((s) => idOf(s.variant[key]));
  const seen = new Map<string, unknown>();
  sweep.runs.forEach((s, i) => {
    if (!seen.has(ids[i]!)) seen.set(ids[i]!, s.variant[key] ?? null);
  });
  return { ids, values: [...seen.values()] };
}

function columnChart(
  sweep: Sweep,
  column: string,
  key: string,
  byKey: ReadonlyMap<string, KeyValues>,
  value: (spec: RunSpec) => number | null,
): ColumnChart {
  const { ids, values } = byKey.get(key)!;
  const others = sweep.keys.filter((k) => k !== key);
  const other = others.length === 1 ? byKey.get(others[0]!)! : null;
  const split = other !== null && other.values.length <= MAX_LINES;
  const numeric = values.every((x) => typeof x === "number" && Number.isFinite(x));
  const xs = numeric ? [...values].sort((a, b) => (a as number) - (b as number)) : values;
  // Each run's value, grouped by the line it is on and then by the key's value.
  const groups = new Map<string, Map<string, number[]>>();
  sweep.runs.forEach((spec, i) => {
    const v = value(spec);
    if (v === null) return;
    const line = split ? other.ids[i]! : "";
    let byX = groups.get(line);
    if (byX === undefined) groups.set(line, (byX = new Map()));
    const at = byX.get(ids[i]!);
    if (at === undefined) byX.set(ids[i]!, [v]);
    else at.push(v);
  });
  const pointsOn = (line: string): Point[] =>
    xs.map((x) => {
      const at = groups.get(line)?.get(idOf(x));
      return at === undefined ? null : meanInterval(at);
    });
  return {
    column,
    key,
    axis: numeric ? "linear" : "category",
    xs: numeric ? (xs as number[]) : xs.map(label),
    lineKey: split ? others[0]! : null,
    series: split
      ? other.values.map((lv) => ({ label: label(lv), points: pointsOn(idOf(lv)) }))
      : [{ label: null, points: pointsOn("") }],
    pooled: split ? [] : others,
  };
}

function configurationsOf(sweep: Sweep): Configuration[] {
  const byVariant = new Map<string, Configuration>();
  for (const spec of sweep.runs) {
    const id = canonicalJson(sweep.keys.map((k) => spec.variant[k] ?? null));
    const found = byVariant.get(id);
    if (found === undefined) byVariant.set(id, { variant: spec.variant, specs: [spec] });
    else found.specs.push(spec);
  }
  return [...byVariant.values()];
}

function objectiveOf(sweep: Sweep, columns: readonly string[]): Objective | null {
  if (sweep.objective !== undefined) return { ...sweep.objective, named: true };
  const first = columns[0];
  return first === undefined ? null : { column: first, goal: "min", named: false };
}

/** Best first; equal means keep the sweep's order. Configurations with no value are left out. */
function rank(
  configurations: readonly Configuration[],
  objective: Objective,
  value: (spec: RunSpec) => number | null,
): { configuration: Configuration; interval: MeanInterval }[] {
  const scored = configurations.flatMap((configuration) => {
    const values = configuration.specs.map(value).filter((v) => v !== null);
    return values.length === 0 ? [] : [{ configuration, interval: meanInterval(values) }];
  });
  const sign = objective.goal === "min" ? 1 : -1;
  // Array.prototype.sort is stable, so ties stay in run order.
  return scored.sort((a, b) => sign * (a.interval.mean - b.interval.mean));
}

const idOf = (value: unknown): string => canonicalJson(value ?? null);

/** A varied value as text: a string as it is, anything else as JSON. */
export function label(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value ?? null);
}
