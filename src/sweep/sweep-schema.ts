// The zod schema of a sweep file: a base scenario, the keys to vary (a grid of every
// combination, or random draws from ranges), the seeds, and what to collect from each run.
import { z } from "zod";
import { nonEmptyText, nonNegativeInt, positiveInt, text } from "../scenario/primitives.ts";
import { metricSelectorSchema } from "../scenario/selector.ts";

/** A value a key of the scenario can take: anything YAML can write. */
const value = z.unknown();

const gridSchema = z
  .record(z.string(), z.array(value).min(1).describe("a non-empty list of values"))
  .describe("a mapping of scenario key paths to lists of values");

const rangeSchema = z.union([
  z
    .strictObject({
      min: z.number().describe("a number"),
      max: z.number().describe("a number"),
      /** Draw evenly in log space (sizes, rates): both bounds must then be above 0. */
      scale: z.enum(["linear", "log"]).default("linear"),
      integer: z.boolean().default(false),
    })
    .refine((r) => r.max >= r.min, { message: "expected max to be at least min", path: ["max"] })
    .refine((r) => !r.integer || Math.ceil(r.min) <= Math.floor(r.max), {
      message: "an integer range needs a whole number between min and max",
      path: ["max"],
    })
    .refine((r) => r.scale === "linear" || r.min > 0, {
      message: "a log scale needs min above 0",
      path: ["min"],
    }),
  z.strictObject({ choices: z.array(value).min(1).describe("a non-empty list of values") }),
]);

const randomSchema = z.strictObject({
  /** How many variants to draw. */
  draws: positiveInt.max(100_000),
  /** The draws' own seed: the same seed draws the same variants. */
  seed: nonNegativeInt.default(0),
  ranges: z
    .record(z.string(), rangeSchema)
    .describe("a mapping of scenario key paths to { min, max } or { choices }"),
});

/** A metric's final value: one instance's, summed over a role's instances, or over all. */
const metricCollectSchema = z
  .strictObject({
    /** The column's name; default the metric selector with the instance or role. */
    name: nonEmptyText.optional(),
    metric: metricSelectorSchema,
    instance: nonEmptyText.optional(),
    role: z.enum(["prefill", "decode", "unified"]).optional(),
  })
  .refine((m) => m.instance === undefined || m.role === undefined, {
    message: "a metric is one instance's or a role's sum, not both; remove 'instance' or 'role'",
    path: ["role"],
  });

export const LATENCY_COLUMNS = [
  "ttft_mean",
  "ttft_p50",
  "ttft_p90",
  "ttft_p99",
  "tpot_mean",
  "tpot_p50",
  "tpot_p90",
  "tpot_p99",
  "itl_mean",
  "itl_p50",
  "itl_p90",
  "itl_p99",
  "e2e_mean",
  "e2e_p50",
  "e2e_p90",
  "e2e_p99",
] as const;

export type LatencyColumn = (typeof LATENCY_COLUMNS)[number];

const collectSchema = z.strictObject({
  /** Fields of summary.json by dotted path (requests.finished, simulated_seconds, ...). */
  summary: z.array(nonEmptyText).default(["requests.finished", "simulated_seconds"]),
  metrics: z.array(metricCollectSchema).default([]),
  latency: z
    .array(z.enum(LATENCY_COLUMNS).describe(`one of ${LATENCY_COLUMNS.join(", ")}`))
    .default([]),
  /** Per accounting profile: reported local compute less the truth's, over all instances. */
  truth_vs_reported: z.boolean().default(false),
});

/** A bound on a collected column: the run meets it when the column is at most `max` (or at least `min`). */
const boundSchema = z
  .strictObject({ max: z.number().optional(), min: z.number().optional() })
  .refine((b) => b.max !== undefined || b.min !== undefined, {
    message: "a bound needs max or min",
  });

/**
 * `--search rate`: per configuration, the highest arrival rate whose runs meet every bound
 * (each column averaged over the seeds), found by bisection between `min` and `max`.
 */
const searchSchema = z.strictObject({
  /**
   * The key path of the rate; default workload.trace.rate_per_s for a trace replay, else
   * workload.arrival.rate_per_s (sweep-file.ts fills it in from the base scenario).
   */
  key: nonEmptyText.optional(),
  min: z.number().positive().describe("a positive number of requests per second"),
  max: z.number().positive().describe("a positive number of requests per second"),
  /** Stop when the highest passing and lowest failing rates are within this ratio. */
  tolerance: z.number().gt(0).max(1).default(0.05),
  objective: z
    .record(z.string(), boundSchema)
    .refine((o) => Object.keys(o).length > 0, { message: "name at least one column to bound" })
    .describe("a mapping of collected columns to { max } or { min }"),
});

export const sweepFileSchema = z
  .strictObject({
    name: nonEmptyText.optional(), // default: the file's base name without extension
    description: text.default(""),
    /** The base scenario, relative to the sweep file. */
    scenario: nonEmptyText,
    grid: gridSchema.optional(),
    random: randomSchema.optional(),
    /** The seeds each variant runs with: a list, or { count: N } for 0 to N − 1. */
    seeds: z
      .union([z.array(nonNegativeInt).min(1), z.strictObject({ count: positiveInt.max(100_000) })])
      .describe("a list of seeds or { count: N }")
      .optional(),
    collect: collectSchema.prefault({}),
    /** The column the report ranks configurations by, and which way is better. */
    objective: z
      .strictObject({ column: nonEmptyText, goal: z.enum(["min", "max"]).default("min") })
      .optional(),
    search: searchSchema.optional(),
  })
  .refine((s) => s.search === undefined || s.search.max > s.search.min, {
    message: "expected search.max to be above search.min",
    path: ["search", "max"],
  })
  .refine((s) => !(s.grid !== undefined && s.random !== undefined), {
    message: "a sweep is a grid or random draws, not both; remove 'grid' or 'random'",
    path: ["random"],
  })
  .describe("a mapping of sweep keys (scenario, grid, seeds, collect, ...)");

export type SweepFile = z.output<typeof sweepFileSchema>;
export type MetricCollect = SweepFile["collect"]["metrics"][number];
export type RangeSpec = z.output<typeof rangeSchema>;
/** A search as the sweep runs it: its rate's key path settled from the base scenario. */
export type SearchSpec = Omit<z.output<typeof searchSchema>, "key"> & { key: string };
