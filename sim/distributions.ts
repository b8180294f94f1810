// Sampling from the distribution specs a scenario can name, each drawing a fixed number of uniforms.

import type { Rng } from "./rng.ts";

/** `min`/`max`, where present, clamp the sample into [min, max]. */
export type DistributionSpec =
  | { dist: "constant"; value: number }
  /** Integers, both ends included. */
  | { dist: "uniform"; min: number; max: number }
  | { dist: "exponential"; mean: number; min?: number; max?: number }
  | { dist: "normal"; mean: number; sigma: number; min?: number; max?: number }
  /** `mean` is the lognormal's own mean; `sigma` is the standard deviation of its logarithm. */
  | { dist: "lognormal"; mean: number; sigma: number; min?: number; max?: number }
  /** Picks one of `values` with probability proportional to its weight (equal by default). */
  | { dist: "empirical"; values: number[]; weights?: number[] };

export type Sampler = (rng: Rng) => number;

/** Draws per sample, fixed per kind so that a stream's future never depends on its history. */
export const DRAWS_PER_SAMPLE: Readonly<Record<DistributionSpec["dist"], number>> = {
  constant: 0,
  uniform: 1,
  exponential: 1,
  normal: 2,
  lognormal: 2,
  empirical: 1,
};

/** Draws one sample; it re-validates `spec` on every call, so hot paths should hold a `makeSampler`. */
export function sample(spec: DistributionSpec, rng: Rng): number {
  return makeSampler(spec)(rng);
}

/** Validates `spec` (throwing on nonsense) and returns a sampler with its constants precomputed. */
export function makeSampler(spec: DistributionSpec): Sampler {
  if (typeof spec !== "object" || spec === null) {
    throw new Error(`distribution spec must be an object, got ${JSON.stringify(spec)}`);
  }
  switch (spec.dist) {
    case "constant": {
      const value = finite(spec, "value", spec.value);
      return () => value;
    }
    case "uniform": {
      const min = integer(spec, "min", spec.min);
      const max = integer(spec, "max", spec.max);
      if (min > max) fail(spec, `min (${min}) must be <= max (${max})`);
      return (rng) => rng.int(min, max);
    }
    case "exponential": {
      const mean = positive(spec, "mean", spec.mean);
      const clip = makeClip(spec, spec.min, spec.max);
      return (rng) => clip(-mean * Math.log(1 - rng.next()));
    }
    case "normal": {
      const mean = finite(spec, "mean", spec.mean);
      const sigma = nonNegative(spec, "sigma", spec.sigma);
      const clip = makeClip(spec, spec.min, spec.max);
      return (rng) => clip(mean + sigma * standardNormal(rng));
    }
    case "lognormal": {
      const mean = positive(spec, "mean", spec.mean);
      const sigma = nonNegative(spec, "sigma", spec.sigma);
      const mu = Math.log(mean) - (sigma * sigma) / 2;
      const clip = makeClip(spec, spec.min, spec.max);
      return (rng) => clip(Math.exp(mu + sigma * standardNormal(rng)));
    }
    case "empirical":
      return makeEmpirical(spec);
    default: {
      const unknown: never = spec;
      throw new Error(
        `unknown distribution ${JSON.stringify((unknown as { dist: unknown }).dist)}; ` +
          `expected one of ${Object.keys(DRAWS_PER_SAMPLE).join(", ")}`,
      );
    }
  }
}

/** Box–Muller with both uniforms drawn every time and the second normal discarded. */
function standardNormal(rng: Rng): number {
  const u1 = rng.next();
  const u2 = rng.next();
  return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
}

function makeEmpirical(spec: Extract<DistributionSpec, { dist: "empirical" }>): Sampler {
  const { values, weights } = spec;
  if (!Array.isArray(values) || values.length === 0) fail(spec, "values must be a non-empty array");
  values.forEach((v, i) => finite(spec, `values[${i}]`, v));
  if (weights !== undefined) {
    if (!Array.isArray(weights) || weights.length !== values.length) {
      fail(spec, `weights must have one entry per value (${values.length})`);
    }
    weights.forEach((w, i) => nonNegative(spec, `weights[${i}]`, w));
  }
  const cumulative = new Float64Array(values.length);
  let total = 0;
  for (let i = 0; i < values.length; i++) {
    total += weights === undefined ? 1 : (weights[i] as number);
    cumulative[i] = total;
  }
  if (!(total > 0) || !Number.isFinite(total))
    fail(spec, `weights must have a positive finite sum`);
  const picked = Float64Array.from(values);
  return (rng) => {
    // The first index whose cumulative weight exceeds the target; zero-weight values are never it.
    const target = rng.next() * total;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((cumulative[mid] as number) > target) hi = mid;
      else lo = mid + 1;
    }
    return picked[lo] as number;
  };
}

function makeClip(
  spec: DistributionSpec,
  min: number | undefined,
  max: number | undefined,
): (x: number) => number {
  const lo = min === undefined ? -Infinity : finite(spec, "min", min);
  const hi = max === undefined ? Infinity : finite(spec, "max", max);
  if (lo > hi) fail(spec, `min (${lo}) must be <= max (${hi})`);
  return (x) => (x < lo ? lo : x > hi ? hi : x);
}

function finite(spec: DistributionSpec, field: string, x: unknown): number {
  if (typeof x !== "number" || !Number.isFinite(x)) {
    fail(spec, `${field} must be a finite number, got ${JSON.stringify(x)}`);
  }
  return x;
}

function integer(spec: DistributionSpec, field: string, x: unknown): number {
  if (!Number.isSafeInteger(x)) fail(spec, `${field} must be an integer, got ${JSON.stringify(x)}`);
  return x as number;
}

function nonNegative(spec: DistributionSpec, field: string, x: unknown): number {
  const v = finite(spec, field, x);
  if (v < 0) fail(spec, `${field} must be >= 0, got ${v}`);
  return v;
}

function positive(spec: DistributionSpec, field: string, x: unknown): number {
  const v = finite(spec, field, x);
  if (v <= 0) fail(spec, `${field} must be > 0, got ${v}`);
  return v;
}

function fail(spec: DistributionSpec, message: string): never {
  throw new Error(`${spec.dist} distribution: ${message}`);
}
