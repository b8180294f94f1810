// fast-check over scenario documents: find a document on which one invariant breaks for one
// subject, and shrink it to the smallest such document the arbitrary can reach.

import fc from "fast-check";
import { ScenarioError } from "../scenario/index.ts";
import { evaluate, violationsOf } from "./evaluate.ts";
import type { Invariant, Violation } from "./invariants/index.ts";
import { type MinimizeOptions, minimize } from "./minimize.ts";
import { smallestTiny } from "./tiny-scenarios.ts";
import { type ScenarioDoc, scenarioOfDoc } from "./scenario-doc.ts";
import type { Subject } from "./subjects.ts";

export interface SearchParams {
  seed: number;
  numRuns: number;
  /** fast-check's replay path, to go straight to a known counterexample. */
  path?: string;
  /** How far `minimize` may simplify (by default down to a single unified instance). */
  minimize?: MinimizeOptions;
}

export interface Counterexample {
  doc: ScenarioDoc;
  violation: Violation;
  /** The run (1-based) on which the break was first found, and how many shrinks followed. */
  foundOnRun: number;
  shrinks: number;
  /** Replays the search to this counterexample: pass with the same seed. */
  path: string;
}

/** The violations of `invariant` for `subject` on one document (empty when it holds). */
export function violationsOn(
  doc: ScenarioDoc,
  invariant: Invariant,
  subject: Subject,
): Violation[] {
  const scenario = scenarioOfDoc(doc);
  return violationsOf(evaluate(scenario, scenario.seed, [invariant]), invariant.id, subject);
}

/** Greedy simplification, then the first tiny scenario that still breaks. */
export function simplify(
  doc: ScenarioDoc,
  stillBreaks: (candidate: ScenarioDoc) => boolean,
  options: MinimizeOptions = {},
): ScenarioDoc {
  const greedy = minimize(doc, stillBreaks, options);
  return smallestTiny(greedy, stillBreaks, { keepRoles: options.keepRoles ?? false });
}

/** Whether the document is a valid scenario that breaks the invariant. */
export function breaksOn(doc: ScenarioDoc, invariant: Invariant, subject: Subject): boolean {
  try {
    return violationsOn(doc, invariant, subject).length > 0;
  } catch (error) {
    if (error instanceof ScenarioError) return false;
    throw error;
  }
}

/**
 * Null when `numRuns` documents all hold the invariant; otherwise fast-check's shrunk
 * counterexample, simplified further by `minimize`.
 */
export function findBreak(
  docs: fc.Arbitrary<ScenarioDoc>,
  invariant: Invariant,
  subject: Subject,
  params: SearchParams,
): Counterexample | null {
  const details = fc.check(
    fc.property(docs, (doc) => violationsOn(doc, invariant, subject).length === 0),
    {
      seed: params.seed,
      numRuns: params.numRuns,
      ...(params.path === undefined ? {} : { path: params.path }),
    },
  );
  if (!details.failed) return null;
  const doc = details.counterexample?.[0];
  const violation = doc === undefined ? undefined : violationsOn(doc, invariant, subject)[0];
  // No violation to show: the property threw, which is a bug in pdsim, not a break.
  if (doc === undefined || violation === undefined) throw details.errorInstance;
  const smallest = simplify(
    doc,
    (candidate) => breaksOn(candidate, invariant, subject),
    params.minimize,
  );
  return {
    doc: smallest,
    violation: smallest === doc ? violation : violationsOn(smallest, invariant, subject)[0]!,
    foundOnRun: details.numRuns,
    shrinks: details.numShrinks,
    path: details.counterexamplePath ?? "",
  };
}
