// Runs a scenario once under the watch of the catalogue and sorts what broke by invariant and
// subject.

import type { Scenario } from "../scenario/types.ts";
import { INVARIANTS, type Invariant, type Violation } from "./invariants/index.ts";
import { runCompletes } from "./invariants/run-level.ts";
import type { Subject } from "./subjects.ts";
import { WatchedRun } from "./watched-run.ts";

export interface RunVerdict {
  /**
   * Invariant id → subject → its violations (none: held). An invariant is missing when the run
   * stopped early: its outputs are partial and only `run-completes` speaks for it.
   */
  violations: Map<string, Map<Subject, Violation[]>>;
  error: string | null;
  /** The run itself, for callers that look further (coverage of a generator, reports). */
  run: WatchedRun;
}

export function evaluate(
  scenario: Scenario,
  seed: number,
  invariants: readonly Invariant[] = INVARIANTS,
  /** Sees the run before it starts, to watch it for more than the invariants. */
  beforeRun?: (run: WatchedRun) => void,
): RunVerdict {
  const run = new WatchedRun(scenario, seed);
  beforeRun?.(run);
  const verdicts = invariants.map((inv) => [inv, inv.watch(run)] as const);
  const { error } = run.run();
  const violations = new Map<string, Map<Subject, Violation[]>>();
  for (const [inv, verdict] of verdicts) {
    if (error !== null && inv !== runCompletes) continue;
    const bySubject = new Map<Subject, Violation[]>(inv.subjects.map((s) => [s, []]));
    for (const v of verdict()) bySubject.get(v.subject)?.push(v);
    violations.set(inv.id, bySubject);
  }
  return { violations, error, run };
}

/** The violations of one invariant for one subject in a verdict (empty when it held or was not checked). */
export function violationsOf(verdict: RunVerdict, id: string, subject: Subject): Violation[] {
  return verdict.violations.get(id)?.get(subject) ?? [];
}
