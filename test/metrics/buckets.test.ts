import { describe, expect, it } from "vitest";
import { build1_2_5Buckets, buildBuckets } from "../../src/metrics/buckets.ts";

describe("build1_2_5Buckets", () => {
  it("lists 1, 2, 5 times powers of ten up to and including the maximum", () => {
    expect(build1_2_5Buckets(100)).toEqual([1, 2, 5, 10, 20, 50, 100]);
  });

  it("stops below the maximum when the next value would pass it", () => {
    expect(build1_2_5Buckets(4096)).toEqual([1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000]);
  });

  it("is empty below the first mantissa", () => {
    expect(build1_2_5Buckets(0)).toEqual([]);
  });
});

describe("buildBuckets", () => {
  it("stops at the first mantissa past the maximum, as vLLM's loop does", () => {
    expect(buildBuckets([1, 3], 20)).toEqual([1, 3, 10]);
  });
});
