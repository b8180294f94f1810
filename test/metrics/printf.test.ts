import { describe, expect, it } from "vitest";
import { formatFixed, formatInt } from "../../src/metrics/printf.ts";

// Expected strings are Python's `"%.1f" % x` / `"%.2f" % x` / `"%.0f" % x`.
describe("formatFixed", () => {
  it.each([
    [0.05, "0.1"],
    [0.15, "0.1"],
    [0.25, "0.2"],
    [0.35, "0.3"],
    [0.75, "0.8"],
    [1.005, "1.0"],
    [2.675, "2.7"],
    [1.25, "1.2"],
    [12.34, "12.3"],
    [0, "0.0"],
  ])("prints %s with one decimal as printf does: %s", (value, expected) => {
    expect(formatFixed(value, 1)).toBe(expected);
  });

  it("rounds an exact tie to the even neighbour where toFixed rounds it up", () => {
    expect((0.25).toFixed(1)).toBe("0.3");
    expect(formatFixed(0.25, 1)).toBe("0.2");
    expect(formatFixed(2.5, 0)).toBe("2");
    expect(formatFixed(3.5, 0)).toBe("4");
    expect(formatFixed(0.125, 2)).toBe("0.12");
  });

  it("rounds the binary value, not the decimal literal, at two decimals", () => {
    expect(formatFixed(1.005, 2)).toBe("1.00");
    expect(formatFixed(2.675, 2)).toBe("2.67");
  });

  it("keeps the sign of negative values and negative zero", () => {
    expect(formatFixed(-0.25, 1)).toBe("-0.2");
    expect(formatFixed(-0.01, 1)).toBe("-0.0");
    expect(formatFixed(-0, 1)).toBe("-0.0");
  });

  it("prints huge values in full and non-finite ones as Python does", () => {
    expect(formatFixed(1e22, 1)).toBe("10000000000000000000000.0");
    expect(formatFixed(Infinity, 1)).toBe("inf");
    expect(formatFixed(-Infinity, 1)).toBe("-inf");
    expect(formatFixed(NaN, 1)).toBe("nan");
  });
});

describe("formatInt", () => {
  it("truncates toward zero as %d does with a float", () => {
    expect(formatInt(2.7)).toBe("2");
    expect(formatInt(-2.7)).toBe("-2");
    expect(formatInt(7)).toBe("7");
  });
});
