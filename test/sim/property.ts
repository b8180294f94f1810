// fast-check parameters for the sim tests: a fixed base seed, more runs on request.

import type { Parameters } from "fast-check";

/** Set PDSIM_PROPERTY_RUNS (and optionally PDSIM_PROPERTY_SEED) to search harder. */
export const propertyParams: Parameters<unknown> = {
  seed: Number(process.env.PDSIM_PROPERTY_SEED ?? 20240601),
  numRuns: Number(process.env.PDSIM_PROPERTY_RUNS ?? 200),
};
