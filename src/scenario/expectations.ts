// Checks a scenario's `expect` list against the final metric values of a run.

import type { Expectation } from "./types.ts";

/** Sums every series of a sample name whose labels include the given ones; undefined if none. */
export type SampleLookup = (
  instance: string,
  name: string,
  labels: Readonly<Record<string, string>>,
) => number | undefined;

export interface ExpectationResult {
  expectation: Expectation;
  actual: number | undefined;
  passed: boolean;
}

export function checkExpectations(
  expectations: readonly Expectation[],
  lookup: SampleLookup,
): ExpectationResult[] {
  return expectations.map((expectation) => {
    const actual = lookup(
      expectation.instance,
      expectation.selector.name,
      expectation.selector.labels,
    );
    return { expectation, actual, passed: actual !== undefined && holds(expectation, actual) };
  });
}

function holds(e: Expectation, actual: number): boolean {
  if (e.equals !== undefined && Math.abs(actual - e.equals) > e.tolerance) return false;
  if (e.min !== undefined && actual < e.min) return false;
  if (e.max !== undefined && actual > e.max) return false;
  return true;
}

/** `equals 10`, `≥ 3 and ≤ 7`, `equals 0.5 ± 0.01`. */
export function describeExpected(e: Expectation): string {
  const parts: string[] = [];
  if (e.equals !== undefined)
    parts.push(e.tolerance > 0 ? `= ${e.equals} ± ${e.tolerance}` : `= ${e.equals}`);
  if (e.min !== undefined) parts.push(`>= ${e.min}`);
  if (e.max !== undefined) parts.push(`<= ${e.max}`);
  return parts.join(" and ");
}
