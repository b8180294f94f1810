// `--search rate`: for every configuration of a sweep, the highest arrival rate at which it still
// meets the objective (every bounded column, averaged over the seeds), by bisection between the
// search's min and max. The configurations are searched side by side: each round probes every
// unfinished one at its next rate, so the rounds' runs fill the worker pool together.
//
// The midpoint is geometric: rates are searched on a log scale, as capacity questions span
// orders of magnitude. The search stops when the passing and failing rates are within
// `tolerance` of each other, or at the ends: a configuration that fails at min has no rate, and
// one that passes at max is reported at max.
import type { RunResult } from "./run-one.ts";
import type { RunSpec } from "./run-spec.ts";
import type { SearchSpec } from "./sweep-schema.ts";
import type { Variant } from "./variants.ts";

export interface SearchState {
  variant: Variant;
  /** The highest rate that met the objective, if any yet. */
  pass: number | null;
  /** The lowest rate that failed it, if any yet. */
  fail: number | null;
  /** The objective's columns at `pass`, averaged over the seeds. */
  atPass: Record<string, number> | null;
  probes: number;
  done: boolean;
}

/** The next rate to probe, or null when the search of this configuration is over. */
export function nextRate(state: SearchState, search: SearchSpec): number | null {
  if (state.done) return null;
  if (state.pass === null && state.fail === null) return search.max;
  if (state.fail === null) return null; // max passed
  if (state.pass === null) return state.fail === search.min ? null : search.min;
  if (state.fail / state.pass <= 1 + search.tolerance) return null;
  return Math.sqrt(state.pass * state.fail);
}

/** Every seed's run of one probe ended: did the mean of each bounded column meet its bound? */
export function judge(
  results: readonly RunResult[],
  search: SearchSpec,
): { pass: boolean; means: Record<string, number> } {
  const means: Record<string, number> = {};
  let pass = results.every((r) => r.status === "ok");
  for (const [column, bound] of Object.entries(search.objective)) {
    const values = results.map((r) => r.values[column]);
    if (values.some((v) => v === null || v === undefined)) {
      // A column with no value (no request finished) cannot be said to meet a bound.
      pass = false;
      continue;
    }
    const mean = (values as number[]).reduce((a, b) => a + b, 0) / values.length;
    means[column] = mean;
    if (bound.max !== undefined && mean > bound.max) pass = false;
    if (bound.min !== undefined && mean < bound.min) pass = false;
  }
  return { pass, means };
}

export function record(state: SearchState, rate: number, verdict: ReturnType<typeof judge>): void {
  state.probes += 1;
  if (verdict.pass) {
    state.pass = rate;
    state.atPass = verdict.means;
  } else {
    state.fail = rate;
  }
}

export interface SearchRunner {
  /** Runs every spec (each seed of each probe) and gives back each one's result by key. */
  run(specs: readonly RunSpec[]): Promise<Map<string, RunResult>>;
  /** The runs of these variants with every seed, numbered from `from`. */
  runsOf(variants: readonly Variant[], from: number): RunSpec[];
  stopped(): boolean;
}

/** Searches every variant; returns each one's final state, in the variants' order. */
export async function searchRates(
  variants: readonly Variant[],
  search: SearchSpec,
  runner: SearchRunner,
  onProbes: (specs: readonly RunSpec[]) => void,
): Promise<SearchState[]> {
  const states: SearchState[] = variants.map((variant) => ({
    variant,
    pass: null,
    fail: null,
    atPass: null,
    probes: 0,
    done: false,
  }));
  let numbered = 0;
  while (!runner.stopped()) {
    const round = states
      .map((state) => ({ state, rate: nextRate(state, search) }))
      .filter((p): p is { state: SearchState; rate: number } => p.rate !== null);
    for (const state of states) if (nextRate(state, search) === null) state.done = true;
    if (round.length === 0) break;
    const specs = runner.runsOf(
      round.map(({ state, rate }) => ({ ...state.variant, [search.key]: rate })),
      numbered,
    );
    numbered += specs.length;
    onProbes(specs);
    const results = await runner.run(specs);
    if (runner.stopped()) break;
    const perProbe = specs.length / round.length;
    round.forEach(({ state, rate }, i) => {
      const own = specs.slice(i * perProbe, (i + 1) * perProbe).map((s) => results.get(s.key)!);
      record(state, rate, judge(own, search));
    });
  }
  return states;
}
