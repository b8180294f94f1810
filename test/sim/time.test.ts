import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { formatSeconds, msToUs, secondsToUs, US_PER_S, usToSeconds } from "../../sim/index.ts";
import { propertyParams } from "../support/property.ts";

describe("time conversions", () => {
  test("seconds and milliseconds become whole microseconds, rounded to the nearest", () => {
    expect(US_PER_S).toBe(1_000_000);
    expect(secondsToUs(1.5)).toBe(1_500_000);
    expect(secondsToUs(0.0000004)).toBe(0);
    expect(secondsToUs(0.0000006)).toBe(1);
    expect(msToUs(2.5)).toBe(2_500);
    expect(msToUs(0)).toBe(0);
    expect(usToSeconds(2_500_000)).toBe(2.5);
  });

  test("negative, infinite and NaN inputs are rejected with the bad value in the message", () => {
    expect(() => secondsToUs(-1)).toThrow(/-1/);
    expect(() => secondsToUs(Number.NaN)).toThrow(/NaN/);
    expect(() => secondsToUs(Infinity)).toThrow(/Infinity/);
    expect(() => msToUs(-0.5)).toThrow(/-0.5/);
    expect(() => secondsToUs(1e12)).toThrow(/too large/);
  });

  test("converting microseconds to seconds and back is exact", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 50 }), (us) => {
        expect(secondsToUs(usToSeconds(us))).toBe(us);
      }),
      propertyParams,
    );
  });

  test("formatSeconds prints seconds with the requested decimals, rounding half up", () => {
    expect(formatSeconds(12_345_000)).toBe("12.345");
    expect(formatSeconds(0)).toBe("0.000");
    expect(formatSeconds(1_000_500)).toBe("1.001");
    expect(formatSeconds(1_000_499)).toBe("1.000");
    expect(formatSeconds(12_345_678, 0)).toBe("12");
    expect(formatSeconds(12_345_678, 6)).toBe("12.345678");
    expect(formatSeconds(5, 6)).toBe("0.000005");
    expect(formatSeconds(-2_500_000, 1)).toBe("-2.5");
    expect(formatSeconds(-1, 3)).toBe("0.000");
  });

  test("formatSeconds rejects decimals it cannot represent exactly", () => {
    expect(() => formatSeconds(1, 7)).toThrow(/decimals/);
    expect(() => formatSeconds(1, 1.5)).toThrow(/decimals/);
    expect(() => formatSeconds(Number.NaN)).toThrow(/finite/);
  });
});
