// The table of a sweep's runs, a row a run in the sweep's run order, as typed columns: runs.csv
// writes its cells as text and runs.parquet its columns with their types, so that both hold the
// same columns in the same order.
import { collectedColumns, type RunResult } from "./run-one.ts";
import type { Sweep } from "./sweep-file.ts";
import { valueText } from "./variants.ts";

/**
 * "int" holds safe integers, "double" any number (NaN and ±Infinity included), "string" text;
 * a null is a missing value (a failed run's metrics, a run not yet run's wall time).
 */
export type ColumnType = "int" | "double" | "string";

export interface TableColumn {
  name: string;
  type: ColumnType;
  /** Whether a value may be missing (a Parquet OPTIONAL column). */
  nullable: boolean;
  values: (number | string | null)[];
}

export function runsTable(sweep: Sweep, results: ReadonlyMap<string, RunResult>): TableColumn[] {
  const runs = sweep.runs.map((spec) => ({ spec, result: results.get(spec.key) }));
  return [
    { name: "index", type: "int", nullable: false, values: runs.map((r) => r.spec.index) },
    { name: "key", type: "string", nullable: false, values: runs.map((r) => r.spec.key) },
    {
      name: "status",
      type: "string",
      nullable: false,
      values: runs.map((r) => r.result?.status ?? "not run"),
    },
    ...sweep.keys.map((k) =>
      variedColumn(
        k,
        runs.map((r) => r.spec.variant[k]),
      ),
    ),
    { name: "seed", type: "int", nullable: false, values: runs.map((r) => r.spec.seed) },
    {
      name: "wall_s",
      type: "double",
      nullable: true,
      values: runs.map((r) => r.result?.wall_s ?? null),
    },
    ...collectedColumns(sweep.collect).map((c) => {
      const values = runs.map((r) => r.result?.values[c] ?? null);
      return { name: c, type: numericType(values), nullable: true, values };
    }),
    {
      name: "error",
      type: "string",
      nullable: true,
      values: runs.map((r) => r.result?.error ?? null),
    },
  ];
}

/**
 * A varied key's values: numbers stay numbers when every value is one; otherwise each value is
 * text (a string as it is, anything else as JSON), so that a column has one type.
 */
function variedColumn(name: string, raw: readonly unknown[]): TableColumn {
  const nullable = raw.some((v) => v === undefined || v === null);
  const present = raw.filter((v) => v !== undefined && v !== null);
  if (present.every((v) => typeof v === "number")) {
    const values = raw.map((v) => (typeof v === "number" ? v : null));
    return { name, type: numericType(values), nullable, values };
  }
  const values = raw.map((v) => (v === undefined || v === null ? null : valueText(v)));
  return { name, type: "string", nullable, values };
}

/**
 * From the values themselves: a metric or summary field that only ever counts is an integer, a
 * latency or a rate a double. A column with no value at all is a double.
 */
function numericType(values: readonly (number | string | null)[]): "int" | "double" {
  const present = values.filter((v) => v !== null);
  return present.length > 0 && present.every((v) => Number.isSafeInteger(v)) ? "int" : "double";
}

export interface StatusCounts {
  runs: number;
  ok: number;
  failed: number;
  not_run: number;
}

export function statusCounts(sweep: Sweep, results: ReadonlyMap<string, RunResult>): StatusCounts {
  const counts = { runs: sweep.runs.length, ok: 0, failed: 0, not_run: 0 };
  for (const spec of sweep.runs) {
    const status = results.get(spec.key)?.status;
    if (status === "ok") counts.ok += 1;
    else if (status === "failed") counts.failed += 1;
    else counts.not_run += 1;
  }
  return counts;
}
