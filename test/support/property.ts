// fast-check parameters shared by the property tests: a fixed base seed, more runs on request.

import type { Parameters } from "fast-check";

export const propertySeed = Number(process.env.PDSIM_PROPERTY_SEED ?? 20240601);
const runsOverride = process.env.PDSIM_PROPERTY_RUNS;
// fast-check prints the seed and path of a failure; both replay it (the path names one property,
// so run that property's test alone with vitest -t).
const path = process.env.PDSIM_PROPERTY_PATH;

/** Set PDSIM_PROPERTY_RUNS (and optionally PDSIM_PROPERTY_SEED) to search harder. */
export const propertyParams: Parameters<unknown> = propertyParamsWithRuns(200);

/**
 * The same seed with a smaller default number of runs, for properties whose every run drives a
 * whole simulation; PDSIM_PROPERTY_RUNS still overrides it.
 */
export function propertyParamsWithRuns(defaultRuns: number): Parameters<unknown> {
  return {
    seed: propertySeed,
    numRuns: propertyRuns(defaultRuns),
    ...(path === undefined ? {} : { path }),
  };
}

/** The number of runs a property makes: `defaultRuns`, or PDSIM_PROPERTY_RUNS when set. */
export function propertyRuns(defaultRuns: number): number {
  return Number(runsOverride ?? defaultRuns);
}

/**
 * Checks that a generator keeps reaching the situations a property is about: each flag must be
 * true in at least `minShare` of the runs. Set PDSIM_PROPERTY_COVERAGE=1 to print the shares.
 */
export function expectReached<K extends string>(
  name: string,
  runs: readonly Record<K, boolean>[],
  minShare: number,
): void {
  const keys = Object.keys(runs[0] ?? {}) as K[];
  const shares = keys.map((k) => [k, runs.filter((r) => r[k]).length / runs.length] as const);
  if (process.env.PDSIM_PROPERTY_COVERAGE) {
    const list = shares.map(([k, v]) => `${k} ${(100 * v).toFixed(0)}%`).join(", ");
    process.stderr.write(`${name} (${runs.length} runs): ${list}\n`);
  }
  for (const [k, v] of shares) {
    if (v < minShare) {
      throw new Error(
        `${name}: ${k} reached in ${(100 * v).toFixed(1)}% of ${runs.length} runs, want >= ${100 * minShare}%`,
      );
    }
  }
}
