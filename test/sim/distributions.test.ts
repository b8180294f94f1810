import { describe, expect, test } from "vitest";
import {
  DRAWS_PER_SAMPLE,
  makeSampler,
  RngStreams,
  sample,
  type DistributionSpec,
  type Rng,
} from "../../sim/index.ts";

const N = 100_000;

function samples(spec: DistributionSpec, n = N, seed = 2024): number[] {
  const rng = new RngStreams(seed).stream("dist");
  const draw = makeSampler(spec);
  return Array.from({ length: n }, () => draw(rng));
}

function meanOf(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function stdOf(xs: number[]): number {
  const m = meanOf(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

/** Wraps an Rng and counts how many uniforms were drawn through it. */
function counting(rng: Rng): Rng & { count: number } {
  const wrapper = {
    count: 0,
    next(): number {
      wrapper.count++;
      return rng.next();
    },
    int(min: number, max: number): number {
      wrapper.count++;
      return rng.int(min, max);
    },
  };
  return wrapper;
}

describe("distribution moments with a fixed seed", () => {
  test("constant always returns its value", () => {
    expect(new Set(samples({ dist: "constant", value: 17 }, 100))).toEqual(new Set([17]));
  });

  test("exponential has the configured mean and a standard deviation equal to it", () => {
    const xs = samples({ dist: "exponential", mean: 4 });
    expect(meanOf(xs)).toBeCloseTo(4, 1);
    expect(Math.abs(stdOf(xs) - 4)).toBeLessThan(0.08);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
  });

  test("normal has the configured mean and sigma", () => {
    const xs = samples({ dist: "normal", mean: 100, sigma: 15 });
    expect(Math.abs(meanOf(xs) - 100)).toBeLessThan(0.3);
    expect(Math.abs(stdOf(xs) - 15)).toBeLessThan(0.3);
  });

  test("lognormal's sample mean is the configured mean and its log has the configured sigma", () => {
    const xs = samples({ dist: "lognormal", mean: 1000, sigma: 0.5 });
    expect(Math.abs(meanOf(xs) / 1000 - 1)).toBeLessThan(0.01);
    expect(Math.abs(stdOf(xs.map(Math.log)) - 0.5)).toBeLessThan(0.01);
    expect(Math.min(...xs)).toBeGreaterThan(0);
  });

  test("uniform returns only integers, hits both ends, and is flat", () => {
    const xs = samples({ dist: "uniform", min: 3, max: 8 }, 60_000);
    expect(xs.every(Number.isInteger)).toBe(true);
    const counts = [3, 4, 5, 6, 7, 8].map((v) => xs.filter((x) => x === v).length);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(xs.length);
    for (const c of counts) expect(Math.abs(c / xs.length - 1 / 6)).toBeLessThan(0.01);
  });

  test("empirical picks values with frequencies proportional to their weights", () => {
    const xs = samples({ dist: "empirical", values: [10, 20, 30, 40], weights: [1, 0, 2, 7] });
    const freq = (v: number): number => xs.filter((x) => x === v).length / xs.length;
    expect(Math.abs(freq(10) - 0.1)).toBeLessThan(0.005);
    expect(freq(20)).toBe(0);
    expect(Math.abs(freq(30) - 0.2)).toBeLessThan(0.005);
    expect(Math.abs(freq(40) - 0.7)).toBeLessThan(0.005);
  });

  test("empirical never picks a zero-weight value, even at the extremes of the uniform draw", () => {
    const draw = makeSampler({ dist: "empirical", values: [1, 2, 3, 4], weights: [0, 1, 0, 1] });
    const fixed = (u: number): Rng => ({ next: () => u, int: () => 0 });
    expect(draw(fixed(0))).toBe(2);
    expect(draw(fixed(0.5))).toBe(4);
    expect(draw(fixed(1 - 2 ** -32))).toBe(4);
  });

  test("empirical without weights picks each value equally often", () => {
    const xs = samples({ dist: "empirical", values: [1, 2, 3, 4] }, 40_000);
    for (const v of [1, 2, 3, 4]) {
      expect(Math.abs(xs.filter((x) => x === v).length / xs.length - 0.25)).toBeLessThan(0.01);
    }
  });
});

describe("clipping", () => {
  test.each<DistributionSpec>([
    { dist: "normal", mean: 0, sigma: 10, min: -5, max: 5 },
    { dist: "lognormal", mean: 100, sigma: 1, min: 50, max: 200 },
    { dist: "exponential", mean: 10, min: 2, max: 20 },
  ])("$dist samples are clamped into [min, max] and land on both bounds", (spec) => {
    const { min, max } = spec as { min: number; max: number };
    const xs = samples(spec, 20_000);
    expect(Math.min(...xs)).toBe(min);
    expect(Math.max(...xs)).toBe(max);
    expect(xs.some((x) => x > min && x < max)).toBe(true);
  });

  test("clipping one side leaves the other side's tail alone", () => {
    const xs = samples({ dist: "normal", mean: 0, sigma: 1, min: 0 }, 20_000);
    expect(Math.min(...xs)).toBe(0);
    expect(Math.max(...xs)).toBeGreaterThan(3);
    expect(xs.filter((x) => x === 0).length / xs.length).toBeCloseTo(0.5, 1);
  });
});

describe("determinism", () => {
  test.each<DistributionSpec>([
    { dist: "constant", value: 1 },
    { dist: "uniform", min: 0, max: 9 },
    { dist: "exponential", mean: 2 },
    { dist: "normal", mean: 0, sigma: 1 },
    { dist: "lognormal", mean: 5, sigma: 0.3, min: 1 },
    { dist: "empirical", values: [1, 2], weights: [3, 1] },
    { dist: "empirical", values: [42] },
  ])("$dist consumes the same number of draws for every sample", (spec) => {
    const rng = counting(new RngStreams(8).stream("d"));
    const draw = makeSampler(spec);
    for (let i = 1; i <= 200; i++) {
      draw(rng);
      expect(rng.count).toBe(i * DRAWS_PER_SAMPLE[spec.dist]);
    }
  });

  test("sample and makeSampler give the same values from the same stream", () => {
    const spec: DistributionSpec = { dist: "lognormal", mean: 20, sigma: 0.8, max: 60 };
    const a = new RngStreams(4).stream("x");
    const b = new RngStreams(4).stream("x");
    const draw = makeSampler(spec);
    for (let i = 0; i < 50; i++) expect(sample(spec, a)).toBe(draw(b));
  });

  test("a sampler copies its spec, so later edits to the spec's arrays do not change it", () => {
    const values = [1, 2, 3];
    const draw = makeSampler({ dist: "empirical", values });
    values.fill(99);
    const rng = new RngStreams(1).stream("x");
    for (let i = 0; i < 100; i++) expect(draw(rng)).toBeLessThan(4);
  });
});

describe("invalid specs", () => {
  const invalid: [string, unknown, RegExp][] = [
    [
      "negative sigma",
      { dist: "normal", mean: 0, sigma: -1 },
      /normal distribution: sigma must be >= 0, got -1/,
    ],
    [
      "min above max",
      { dist: "normal", mean: 0, sigma: 1, min: 3, max: 2 },
      /min \(3\) must be <= max \(2\)/,
    ],
    [
      "uniform min above max",
      { dist: "uniform", min: 5, max: 4 },
      /uniform distribution: min \(5\)/,
    ],
    [
      "fractional uniform bound",
      { dist: "uniform", min: 0.5, max: 4 },
      /min must be an integer, got 0.5/,
    ],
    ["zero exponential mean", { dist: "exponential", mean: 0 }, /mean must be > 0, got 0/],
    [
      "negative lognormal mean",
      { dist: "lognormal", mean: -3, sigma: 1 },
      /mean must be > 0, got -3/,
    ],
    [
      "missing normal mean",
      { dist: "normal", sigma: 1 },
      /mean must be a finite number, got undefined/,
    ],
    ["infinite constant", { dist: "constant", value: Infinity }, /value must be a finite number/],
    ["empty values", { dist: "empirical", values: [] }, /values must be a non-empty array/],
    [
      "mismatched weights",
      { dist: "empirical", values: [1, 2], weights: [1] },
      /one entry per value \(2\)/,
    ],
    [
      "negative weight",
      { dist: "empirical", values: [1, 2], weights: [1, -1] },
      /weights\[1\] must be >= 0/,
    ],
    [
      "all-zero weights",
      { dist: "empirical", values: [1, 2], weights: [0, 0] },
      /positive finite sum/,
    ],
    [
      "non-numeric value",
      { dist: "empirical", values: [1, "2"] },
      /values\[1\] must be a finite number/,
    ],
    ["unknown kind", { dist: "pareto", alpha: 2 }, /unknown distribution "pareto"/],
    ["not an object", null, /must be an object/],
  ];

  test.each(invalid)("%s is rejected with a message naming the problem", (_name, spec, message) => {
    expect(() => makeSampler(spec as DistributionSpec)).toThrow(message);
  });

  test("sample validates too", () => {
    const rng = new RngStreams(1).stream("x");
    expect(() => sample({ dist: "normal", mean: 0, sigma: -2 }, rng)).toThrow(/sigma/);
  });
});
