import { describe, expect, it } from "vitest";
import { meanInterval, studentTCdf, studentTQuantile } from "../../src/sweep/confidence.ts";

describe("Student's t", () => {
  it("gives the two-sided 95 % critical values of the printed tables", () => {
    // R's qt(0.975, df).
    const table: [number, number][] = [
      [1, 12.706204736174707],
      [2, 4.302652729749464],
      [4, 2.776445105197793],
      [9, 2.262157162798205],
      [29, 2.045229642132703],
      [1000, 1.962339080805247],
    ];
    for (const [df, t] of table) {
      expect(studentTQuantile(0.975, df), `df ${df}`).toBeCloseTo(t, 10);
    }
  });

  it("has a CDF that the quantile inverts, with a half at zero", () => {
    expect(studentTCdf(0, 3)).toBe(0.5);
    for (const df of [1, 3, 7.5, 40]) {
      for (const p of [0.6, 0.9, 0.995]) {
        expect(studentTCdf(studentTQuantile(p, df), df), `df ${df}, p ${p}`).toBeCloseTo(p, 12);
      }
    }
  });
});

describe("mean and 95 % interval", () => {
  it("matches a hand computation: 1..5 has mean 3, s² 2.5, and half-width t(0.975, 4)·s/√5", () => {
    // s = √2.5 = 1.5811388, s/√5 = 0.7071068, × 2.7764451 = 1.9632432.
    const { n, mean, half } = meanInterval([1, 2, 3, 4, 5]);
    expect(n).toBe(5);
    expect(mean).toBe(3);
    expect(half).toBeCloseTo(1.9632432, 6);
  });

  it("gives two seeds' values the wide interval of one degree of freedom", () => {
    // s = √2 · 0.5 = 0.7071068, s/√2 = 0.5, × 12.7062047 = 6.3531024.
    expect(meanInterval([10, 11]).half).toBeCloseTo(6.3531024, 6);
  });

  it("has no interval with one value, and refuses none", () => {
    expect(meanInterval([4.5])).toEqual({ n: 1, mean: 4.5, half: null });
    expect(() => meanInterval([])).toThrow("the mean of no values");
  });
});
