// `pdsim check`: the catalogue over a scenario and perturbations of it. Every run is checked
// against every invariant for the truth, the chosen profile and the simulator; each broken
// one gets its smallest counterexample (fast-check's shrinking, then `minimize`).

import fc from "fast-check";
import type { ProfileName } from "../accounting/profiles.ts";
import { evaluate, violationsOf } from "./evaluate.ts";
import { INVARIANTS, type Invariant, type Violation } from "./invariants/index.ts";
import {
  type CheckBase,
  type Perturbation,
  identity,
  perturbations,
  perturbedDoc,
} from "./perturb.ts";
import { type ScenarioDoc, scenarioOfDoc } from "./scenario-doc.ts";
import { breaksOn, simplify, violationsOn } from "./search.ts";
import type { Subject } from "./subjects.ts";

export interface CheckOptions {
  profile: ProfileName;
  /** The scenario itself, then runs − 1 perturbations. */
  runs: number;
  /** fast-check's seed for the perturbations. */
  seed: number;
}

export interface CheckRow {
  invariant: Invariant;
  subject: Subject;
  promised: boolean;
  /** Runs that checked it (a run that stopped early checks only `run-completes`). */
  runs: number;
  broken: number;
  counterexample: CheckCounterexample | null;
}

export interface CheckCounterexample {
  doc: ScenarioDoc;
  violation: Violation;
}

export interface CheckReport {
  profile: ProfileName;
  runs: number;
  seed: number;
  rows: CheckRow[];
}

export function checkScenario(base: CheckBase, options: CheckOptions): CheckReport {
  const subjects: readonly Subject[] = ["truth", options.profile, "simulator"];
  const rows: CheckRow[] = INVARIANTS.flatMap((invariant) =>
    invariant.subjects
      .filter((s) => subjects.includes(s))
      .map((subject) => ({
        invariant,
        subject,
        promised: invariant.promisedBy.includes(subject),
        runs: 0,
        broken: 0,
        counterexample: null,
      })),
  );
  const firstBreak = new Map<CheckRow, Perturbation>();
  const arbitrary = perturbations(base);
  const sampled =
    options.runs > 1 ? fc.sample(arbitrary, { seed: options.seed, numRuns: options.runs - 1 }) : [];
  for (const p of [identity(base), ...sampled]) {
    const scenario = scenarioOfDoc(perturbedDoc(base, p, options.profile));
    const verdict = evaluate(scenario, scenario.seed);
    for (const row of rows) {
      if (!verdict.violations.has(row.invariant.id)) continue;
      row.runs += 1;
      if (violationsOf(verdict, row.invariant.id, row.subject).length === 0) continue;
      row.broken += 1;
      if (!firstBreak.has(row)) firstBreak.set(row, p);
    }
  }
  for (const [row, p] of firstBreak) {
    row.counterexample = smallestCounterexample(base, options, row, p);
  }
  return { profile: options.profile, runs: options.runs, seed: options.seed, rows };
}

function smallestCounterexample(
  base: CheckBase,
  options: CheckOptions,
  row: CheckRow,
  first: Perturbation,
): CheckCounterexample {
  const breaks = (doc: ScenarioDoc) => breaksOn(doc, row.invariant, row.subject);
  const docOf = (p: Perturbation) => perturbedDoc(base, p, options.profile);
  // fast-check shrinks the first perturbation that broke it, from the perturbation's own fields.
  const details = fc.check(
    fc.property(perturbations(base), (p) => !breaks(docOf(p))),
    { seed: options.seed, numRuns: 1, examples: [[first]] },
  );
  const shrunk = (details.failed ? details.counterexample?.[0] : undefined) ?? first;
  const doc = simplify(docOf(shrunk), breaks, { keepRoles: true });
  const violation = violationsOn(doc, row.invariant, row.subject)[0]!;
  return { doc: describeCounterexample(doc, row), violation };
}

/** Names and describes the document as the counterexample it is. */
function describeCounterexample(doc: ScenarioDoc, row: CheckRow): ScenarioDoc {
  const { name: _name, lesson: _lesson, description: _description, ...rest } = doc;
  return {
    name: `counterexample-${row.invariant.id}`,
    description:
      `The smallest counterexample pdsim check found to '${row.invariant.id}' for ${row.subject}: ` +
      `${row.invariant.statement}`,
    ...rest,
  };
}

/** Whether any row broke. */
export function anyBroken(report: CheckReport): boolean {
  return report.rows.some((row) => row.broken > 0);
}
