// The scenario-side schema of a sampled quantity ({dist: lognormal, mean, sigma, ...}); the
// sampler that draws from it lives in sim/ and knows nothing of this file.
import { z } from "zod";
import { finiteNumber, nonNegativeNumber, positiveNumber } from "./primitives.ts";

const integer = z.int().describe("an integer");
const clip = { min: finiteNumber.optional(), max: finiteNumber.optional() };

export const DISTRIBUTION_KINDS = [
  "constant",
  "uniform",
  "exponential",
  "normal",
  "lognormal",
  "empirical",
] as const;

const distributionShapes = z
  .discriminatedUnion("dist", [
    z.strictObject({ dist: z.literal("constant"), value: finiteNumber }),
    // Both ends are included.
    z.strictObject({ dist: z.literal("uniform"), min: integer, max: integer }),
    z.strictObject({ dist: z.literal("exponential"), mean: positiveNumber, ...clip }),
    z.strictObject({
      dist: z.literal("normal"),
      mean: finiteNumber,
      sigma: nonNegativeNumber,
      ...clip,
    }),
    // `mean` is the distribution's own mean, `sigma` the standard deviation of its logarithm.
    z.strictObject({
      dist: z.literal("lognormal"),
      mean: positiveNumber,
      sigma: nonNegativeNumber,
      ...clip,
    }),
    // Weights default to equal; they need not sum to 1.
    z.strictObject({
      dist: z.literal("empirical"),
      values: z.array(finiteNumber).min(1).describe("a non-empty list of numbers"),
      weights: z.array(nonNegativeNumber).optional(),
    }),
  ])
  .describe("a distribution such as { dist: constant, value: 128 }");

export type DistributionConfig = z.output<typeof distributionShapes>;

export const distributionSchema = distributionShapes.superRefine((d, ctx) => {
  if (d.dist === "empirical") {
    if (d.weights === undefined) return;
    if (d.weights.length !== d.values.length) {
      ctx.addIssue({
        code: "custom",
        path: ["weights"],
        message: `expected one weight per value (${d.values.length}), got ${d.weights.length}`,
      });
    } else if (!d.weights.some((w) => w > 0)) {
      ctx.addIssue({
        code: "custom",
        path: ["weights"],
        message: "expected at least one positive weight, got all zero",
      });
    }
    return;
  }
  if (d.dist === "constant") return;
  if (d.min !== undefined && d.max !== undefined && d.min > d.max) {
    ctx.addIssue({
      code: "custom",
      path: ["max"],
      message: `expected max to be at least min (${d.min}), got ${d.max}`,
    });
  }
});

/** The largest value a distribution can produce, where the file fixes one. */
export function upperBound(d: DistributionConfig): number | undefined {
  switch (d.dist) {
    case "constant":
      return d.value;
    case "uniform":
      return d.max;
    case "empirical":
      return d.values.reduce((a, b) => Math.max(a, b), -Infinity);
    case "exponential":
    case "normal":
    case "lognormal":
      return d.max;
  }
}

/** The smallest values a distribution can produce, where the file fixes them. */
function lowerBounds(d: DistributionConfig): { path: (string | number)[]; value: number }[] {
  switch (d.dist) {
    case "constant":
      return [{ path: ["value"], value: d.value }];
    case "uniform":
      return [{ path: ["min"], value: d.min }];
    case "empirical":
      return d.values.map((value, i) => ({ path: ["values", i], value }));
    case "exponential":
    case "normal":
    case "lognormal":
      return d.min === undefined ? [] : [{ path: ["min"], value: d.min }];
  }
}

/**
 * A distribution of token counts: whatever the file pins down must be a whole number of at
 * least one token, since a request of zero prompt or output tokens cannot exist.
 */
export const tokenCountSchema = distributionSchema.superRefine((d, ctx) => {
  for (const bound of lowerBounds(d)) {
    const exact = d.dist === "constant" || d.dist === "empirical";
    if (bound.value < 1 || (exact && !Number.isInteger(bound.value))) {
      ctx.addIssue({
        code: "custom",
        path: bound.path,
        message: `expected a token count (a positive integer), got ${bound.value}`,
      });
    }
  }
});
