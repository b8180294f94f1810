// The result of a rate search: a row a configuration, with the highest rate that met the
// objective, the lowest that did not, how many probes it took, and the objective's columns at
// the highest passing rate.
import { stringify } from "csv-stringify/sync";
import type { SearchState } from "./rate-search.ts";
import { valueText } from "./variants.ts";
import { writeWhole } from "./results-store.ts";
import type { Sweep } from "./sweep-file.ts";
import type { SearchSpec } from "./sweep-schema.ts";

export interface SearchTable {
  header: string[];
  rows: (string | number)[][];
}

export function searchTable(
  sweep: Sweep,
  search: SearchSpec,
  states: readonly SearchState[],
): SearchTable {
  const keys = sweep.keys.filter((k) => k !== search.key);
  const objective = Object.keys(search.objective);
  const header = [
    ...keys,
    "max_rate",
    "first_failing_rate",
    "probes",
    ...objective.map((c) => `${c}@max_rate`),
  ];
  const rows = states.map((s) => [
    ...keys.map((k) => cell(s.variant[k])),
    s.pass ?? `below ${search.min}`,
    s.fail ?? `above ${search.max}`,
    s.probes,
    ...objective.map((c) => s.atPass?.[c] ?? ""),
  ]);
  return { header, rows };
}

export function writeSearchTable(file: string, table: SearchTable): void {
  writeWhole(file, stringify([table.header, ...table.rows]));
}

/** Aligned columns for the terminal, rates to three significant figures. */
export function formatSearchTable(table: SearchTable): string {
  const text = (v: string | number) =>
    typeof v === "number" ? String(Number(v.toPrecision(4))) : v;
  const cells = [table.header, ...table.rows.map((r) => r.map(text))];
  const widths = table.header.map((_, i) => Math.max(...cells.map((r) => String(r[i]).length)));
  return (
    cells
      .map((r) =>
        r
          .map((c, i) => String(c).padEnd(widths[i]!))
          .join("  ")
          .trimEnd(),
      )
      .join("\n") + "\n"
  );
}

function cell(value: unknown): string | number {
  return typeof value === "number" ? value : valueText(value);
}
