// The kernel's public API; domain code imports from here only.

export type { SimTime } from "./time.ts";
export { US_PER_S, secondsToUs, msToUs, usToSeconds, formatSeconds } from "./time.ts";
export type { EventHandle, RunOptions } from "./kernel.ts";
export { Simulation } from "./kernel.ts";
export type { Rng } from "./rng.ts";
export { RngStreams } from "./rng.ts";
export type { DistributionSpec, Sampler } from "./distributions.ts";
export { sample, makeSampler, DRAWS_PER_SAMPLE } from "./distributions.ts";
