// Reads a sweep file into its runs, or throws a ScenarioError that places every problem at the
// sweep file's line: a key of the sweep itself, a key path the scenario has no place for, or a
// value the scenario format refuses (naming the run's values and the field).
import { readFileSync } from "node:fs";
import { basename, dirname, extname, resolve } from "node:path";
import { LineCounter, parseDocument } from "yaml";
import { createSourceMap } from "../scenario/positions.ts";
import { formatPath, type PathSegment } from "../scenario/paths.ts";
import {
  loadScenario,
  loadScenarioData,
  ScenarioError,
  type ScenarioIssue,
} from "../scenario/index.ts";
import { validateAgainst } from "../scenario/validate.ts";
import { collectedColumns } from "./run-one.ts";
import { runSpecs, seedsOf, VariantError, type RunSpec } from "./run-spec.ts";
import { type SearchSpec, sweepFileSchema, type SweepFile } from "./sweep-schema.ts";
import { expandVariants, KeyPathError, valueText, type Variant } from "./variants.ts";

export interface Sweep {
  file: string;
  name: string;
  description: string;
  /** The base scenario, absolute. */
  scenarioFile: string;
  /** The varied key paths, in the sweep file's order. */
  keys: string[];
  seeds: number[];
  collect: SweepFile["collect"];
  objective?: SweepFile["objective"];
  /** The runs of a grid or draws; in a rate search, every probe it made (filled as it goes). */
  runs: RunSpec[];
  /** The variants of the base scenario (a rate search probes each at several rates). */
  variants: Variant[];
  search?: SearchSpec;
  /** The runs of `variants`, each with every seed, keyed and validated as `runs` were. */
  runsOf(variants: readonly Variant[], from: number): RunSpec[];
}

export function loadSweep(file: string, version: string): Sweep {
  const text = readText(file);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const fail = (issues: ScenarioIssue[]): never => {
    throw new ScenarioError(issues);
  };
  if (doc.errors.length > 0) {
    fail(
      doc.errors.map((e) => {
        const { line, col } = lineCounter.linePos(e.pos[0]);
        return { file, line, column: col, path: "", message: e.message };
      }),
    );
  }
  const source = createSourceMap(doc, lineCounter);
  const at = (path: readonly PathSegment[], message: string): ScenarioIssue => {
    const { line, column } = source.positionOf(path, "key");
    return { file, line, column, path: formatPath(path), message };
  };
  const validation = validateAgainst(sweepFileSchema, doc.toJS({ maxAliasCount: 1000 }));
  if (!validation.ok) {
    fail(
      validation.problems.map((p) => {
        const { line, column } = source.positionOf(p.path, p.at);
        return { file, line, column, path: formatPath(p.path), message: p.message };
      }),
    );
  }
  const sweep = validation.ok ? validation.value : (undefined as never);
  const columns = collectedColumns(sweep.collect);
  if (sweep.objective !== undefined && !columns.includes(sweep.objective.column)) {
    fail([
      at(
        ["objective", "column"],
        `'${sweep.objective.column}' is not a collected column; the sweep collects ${columns.length === 0 ? "none" : columns.join(", ")}`,
      ),
    ]);
  }
  // A bound on a column no run collects would fail every probe.
  for (const column of Object.keys(sweep.search?.objective ?? {})) {
    if (columns.includes(column)) continue;
    fail([
      at(
        ["search", "objective", column],
        `'${column}' is not a collected column: add it to collect (latency, metrics or summary); the sweep collects ${columns.length === 0 ? "none" : columns.join(", ")}`,
      ),
    ]);
  }
  const scenarioFile = resolve(dirname(file), sweep.scenario);
  // The base scenario's own problems are reported at its own lines.
  const scenario = loadScenario(scenarioFile);
  const baseData = loadScenarioData(scenarioFile);
  // A trace replay's rate is its own key; a generated workload's is its arrival process's.
  const workload = (baseData as { workload?: Record<string, unknown> }).workload ?? {};
  const search: SearchSpec | undefined =
    sweep.search === undefined
      ? undefined
      : {
          ...sweep.search,
          key:
            sweep.search.key ??
            ("trace" in workload ? "workload.trace.rate_per_s" : "workload.arrival.rate_per_s"),
        };
  const section = sweep.random !== undefined ? "random" : "grid";
  const keys = Object.keys(sweep.random?.ranges ?? sweep.grid ?? {});
  const keyPath = (key: string): PathSegment[] =>
    key === search?.key
      ? ["search", "key"]
      : section === "random"
        ? ["random", "ranges", key]
        : ["grid", key];
  // Where a variant's problem is placed: at the varied key it falls under, or the rate's.
  const placeable = search === undefined ? keys : [...keys, search.key];
  const variants = expandVariants(sweep);
  const seeds = seedsOf(sweep, scenario.seed);
  const placed = (make: () => RunSpec[]): RunSpec[] => {
    try {
      return make();
    } catch (error) {
      if (error instanceof KeyPathError) {
        const key = placeable.find((k) => error.message.startsWith(`'${k}'`)) ?? placeable[0];
        return fail([at(key === undefined ? ["search", "key"] : keyPath(key), error.message)]);
      }
      if (error instanceof VariantError) return fail(variantIssues(error, placeable, keyPath, at));
      throw error;
    }
  };
  const runsOf = (vs: readonly Variant[], from: number): RunSpec[] =>
    runSpecs(baseData, scenarioFile, vs, seeds, version).map((r) => ({
      ...r,
      index: r.index + from,
    }));
  if (search !== undefined) {
    // Both ends of the search, for every variant, are checked before any run.
    const ends = variants.flatMap((v) =>
      [search.min, search.max].map((rate) => ({ ...v, [search.key]: rate })),
    );
    placed(() => runsOf(ends, 0));
  }
  const runs = search === undefined ? placed(() => runsOf(variants, 0)) : [];
  return {
    file,
    name: sweep.name ?? basename(file, extname(file)),
    description: sweep.description,
    scenarioFile,
    keys: search === undefined ? keys : [...keys, search.key],
    seeds,
    collect: sweep.collect,
    ...(sweep.objective === undefined ? {} : { objective: sweep.objective }),
    runs,
    variants,
    ...(search === undefined ? {} : { search }),
    runsOf: (vs, from) => placed(() => runsOf(vs, from)),
  };
}

/** Each of the scenario's issues at the varied key it falls under, with the run's values. */
function variantIssues(
  error: VariantError,
  keys: readonly string[],
  keyPath: (key: string) => PathSegment[],
  at: (path: readonly PathSegment[], message: string) => ScenarioIssue,
): ScenarioIssue[] {
  const values = describeVariant(error.variant);
  return error.error.issues.map((issue) => {
    const key =
      keys.find(
        (k) => issue.path === k || issue.path.startsWith(`${k}.`) || issue.path.startsWith(`${k}[`),
      ) ??
      keys.find((k) => issue.path.startsWith(k.split(".")[0]!)) ??
      keys[0];
    const field = issue.path === "" ? "" : `${issue.path}: `;
    return at(
      key === undefined ? [] : keyPath(key),
      `the run with ${values}: ${field}${issue.message}`,
    );
  });
}

export function describeVariant(variant: Variant): string {
  const parts = Object.entries(variant).map(([k, v]) => `${k}=${valueText(v)}`);
  return parts.length === 0 ? "the base scenario" : parts.join(", ");
}

function readText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ScenarioError([
      {
        file,
        line: 0,
        column: 0,
        path: "",
        message: `cannot read sweep '${file}': ${code === "ENOENT" ? "no such file or directory" : (error as Error).message}`,
      },
    ]);
  }
}
