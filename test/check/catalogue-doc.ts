// Reads docs/INVARIANTS.md's two tables, for the tests that keep the catalogue, its checkers and
// its tests from drifting apart.
import * as fs from "node:fs";
import { fileURLToPath } from "node:url";

export const CATALOGUE_FILE = fileURLToPath(new URL("../../docs/INVARIANTS.md", import.meta.url));
export const REPO = fileURLToPath(new URL("../../", import.meta.url));

export interface CatalogueRow {
  id: string;
  statement: string;
  level: string;
  promisedBy: string[];
  tests: string[];
}

export interface KnownBreakRow {
  profile: string;
  id: string;
  drawnFrom: "every topology" | "P/D topologies" | "unified with a tier";
  counterexample: string;
}

const unquote = (cell: string) => cell.replace(/`/g, "").trim();

/** The rows of the first table after `heading`, as cells. */
function tableAfter(text: string, heading: string): string[][] {
  const start = text.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`${CATALOGUE_FILE}: no '${heading}' section`);
  const lines = text.slice(start).split("\n");
  const first = lines.findIndex((l) => l.startsWith("|"));
  const rows: string[][] = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith("|")) break;
    rows.push(
      line
        .slice(1, -1)
        .split(" | ")
        .map((c) => c.trim()),
    );
  }
  return rows;
}

export function readCatalogue(): { invariants: CatalogueRow[]; knownBreaks: KnownBreakRow[] } {
  const text = fs.readFileSync(CATALOGUE_FILE, "utf8");
  const invariants = tableAfter(text, "## Invariants").map(
    ([id, statement, level, promised, tests]) => ({
      id: unquote(id!),
      statement: unquote(statement!),
      level: level!,
      promisedBy: promised!.split(",").map((s) => s.trim()),
      tests: tests!.split(",").map((s) => s.trim()),
    }),
  );
  const knownBreaks = tableAfter(text, "## Known breaks").map(
    ([profile, id, drawnFrom, counterexample]) => ({
      profile: profile!,
      id: unquote(id!),
      drawnFrom: drawnFrom as KnownBreakRow["drawnFrom"],
      counterexample: counterexample!,
    }),
  );
  return { invariants, knownBreaks };
}
