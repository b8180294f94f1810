// The zod schema of a scenario file and its defaults. Objects are strict, so a misspelt key
// is an error rather than a silently ignored setting.
//
// Defaults that depend on other keys are filled in by resolve.ts: `name` (the file's base
// name without extension), `kv_transfer.connector` ("none" when every instance is unified,
// else "nixl"), `metrics.model_name` (model.name) and each instance's engine (DEFAULT_ENGINE or
// vLLM's defaults, then the top-level `engine` and `vllm_args`, then the instance's own).
import { z } from "zod";
import { connectorEntrySchema, connectorSpecSchema, kvCacheTierSchema } from "./kv-tier-schema.ts";
import {
  CONNECTORS,
  LOAD_FAILURE_POLICIES,
  PROFILE_NAMES,
  ROLES,
  ROUTING_POLICIES,
} from "./names.ts";
import {
  finiteNumber,
  nonEmptyText,
  nonNegativeInt,
  latencyMs,
  nonNegativeNumber,
  perItemCost,
  periodSeconds,
  positiveInt,
  probability,
  spanSeconds,
  text,
} from "./primitives.ts";
export {
  BLOCK_SIZES,
  DEFAULT_ENGINE,
  MAX_GPU_BLOCKS,
  MAX_MODEL_LEN,
  engineSchema,
  type EngineOverride,
} from "./engine-schema.ts";
import { metricSelectorSchema } from "./selector.ts";
import { indexUnique } from "./unique.ts";
import type { StepTimeConfig } from "./types.ts";
import { engineSchema } from "./engine-schema.ts";
import { readVllmArgs } from "./vllm-args.ts";
import { workloadSchema } from "./workload-schema.ts";
import { MODEL_PRESET_NAMES } from "../deployment/model-presets.ts";
import { GPU_PRESET_NAMES } from "../deployment/gpu-presets.ts";

/** The roofline's efficiencies when a scenario leaves them out; guide chapter 7 says why. */
export const ROOFLINE_DEFAULTS = Object.freeze({
  compute_efficiency: 0.5,
  bandwidth_efficiency: 0.9,
  overhead_ms: 1.45,
});

export const DEFAULT_MODEL_NAME = "Qwen/Qwen3-0.6B";

/** A `vllm serve` command line, read into what pdsim makes of it (vllm-args.ts). */
const vllmArgsSchema = z
  .string()
  .describe("a vllm serve command line as a string")
  .transform((text, ctx) => {
    const read = readVllmArgs(text);
    if (read.ok) return read.args;
    for (const message of read.messages) ctx.addIssue({ code: "custom", message });
    return z.NEVER;
  });

/** Qwen3-0.6B's: 28 layers x 8 KV heads x 128 head dim x 2 (K and V) x 2 bytes (bf16). */
export const DEFAULT_KV_BYTES_PER_TOKEN = 114688;

const LINEAR_KEYS = [
  "base_ms",
  "per_prefill_token_us",
  "per_decode_seq_us",
  "per_context_token_ns",
] as const;
const ROOFLINE_KEYS = ["compute_efficiency", "bandwidth_efficiency", "overhead_ms"] as const;

/** A share of a datasheet figure that a real kernel reaches. */
const efficiency = z.number().gt(0).max(1).describe("a fraction above 0 and at most 1");

/**
 * The step-time model: `linear` (the default) with its stated costs, or `roofline` from the
 * model's shapes and each instance's GPU, with efficiencies whose defaults guide chapter 7
 * (docs/guide/07-step-times.md) calibrates.
 */
const stepTimeSchema = z
  .strictObject({
    model: z.enum(["linear", "roofline"]).describe("linear or roofline").default("linear"),
    base_ms: latencyMs.optional(),
    per_prefill_token_us: perItemCost("us").optional(),
    per_decode_seq_us: perItemCost("us").optional(),
    per_context_token_ns: perItemCost("ns").optional(),
    compute_efficiency: efficiency.optional(),
    bandwidth_efficiency: efficiency.optional(),
    overhead_ms: latencyMs.optional(),
  })
  .superRefine((s, ctx) => {
    const foreign = s.model === "linear" ? ROOFLINE_KEYS : LINEAR_KEYS;
    for (const key of foreign) {
      if (s[key] === undefined) continue;
      ctx.addIssue({
        code: "custom",
        path: [key],
        message: `'${key}' belongs to the ${s.model === "linear" ? "roofline" : "linear"} step-time model; this one is ${s.model}${s.model === "linear" ? " (add model: roofline)" : ""}`,
      });
    }
  })
  .transform((s): StepTimeConfig =>
    s.model === "linear"
      ? {
          model: "linear",
          base_ms: s.base_ms ?? 4,
          per_prefill_token_us: s.per_prefill_token_us ?? 25,
          per_decode_seq_us: s.per_decode_seq_us ?? 30,
          per_context_token_ns: s.per_context_token_ns ?? 0,
        }
      : {
          model: "roofline",
          compute_efficiency: s.compute_efficiency ?? ROOFLINE_DEFAULTS.compute_efficiency,
          bandwidth_efficiency: s.bandwidth_efficiency ?? ROOFLINE_DEFAULTS.bandwidth_efficiency,
          overhead_ms: s.overhead_ms ?? ROOFLINE_DEFAULTS.overhead_ms,
        },
  )
  .prefault({});

const modelSchema = z
  .strictObject({
    /** Default: the preset's Hugging Face name, else Qwen/Qwen3-0.6B. */
    name: nonEmptyText.optional(),
    /** A model pdsim knows (src/deployment/model-presets.ts), by its lowercase Hugging Face name. */
    preset: z
      .enum(MODEL_PRESET_NAMES)
      .describe(`one of ${MODEL_PRESET_NAMES.join(", ")}`)
      .optional(),
    /** A Hugging Face config.json, relative to the scenario file. */
    config: nonEmptyText.optional(),
    /** vLLM's --kv-cache-dtype: auto (the model's dtype) or fp8. */
    // Default: what the instances' --kv-cache-dtype says, else auto (resolve.ts).
    cache_dtype: z.enum(["auto", "fp8"]).describe("auto or fp8").optional(),
    /** Overrides what the preset or config gives (default without either: Qwen3-0.6B's). */
    kv_bytes_per_token: positiveInt.optional(),
    step_time: stepTimeSchema,
  })
  .superRefine((m, ctx) => {
    if (m.preset !== undefined && m.config !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["config"],
        message: "a model is a preset or a config.json, not both; remove 'preset' or 'config'",
      });
    }
  });

/** A GPU: a preset from its datasheet, or its figures. */
const gpuSchema = z
  .strictObject({
    preset: z
      .enum(GPU_PRESET_NAMES)
      .describe(`one of ${GPU_PRESET_NAMES.join(", ")}`)
      .optional(),
    memory_gb: z
      .number()
      .min(1)
      .max(100_000)
      .describe("a number of GB from 1 to 100000")
      .optional(),
    memory_bandwidth_tb_s: z
      .number()
      .min(0.001)
      .max(1_000)
      .describe("a number of TB/s from 0.001 to 1000")
      .optional(),
    bf16_tflops: z.number().min(0.001).max(1_000_000).describe("a number of TFLOP/s").optional(),
    fp8_tflops: z.number().min(0.001).max(1_000_000).describe("a number of TFLOP/s").optional(),
    // What torch calls the device: vLLM's batch defaults look for "a100" in it.
    name: z
      .string()
      .min(1)
      .max(100)
      .describe("a GPU's name of 1 to 100 characters, such as 'NVIDIA A100-SXM4-80GB'")
      .optional(),
  })
  .describe(
    "a mapping such as { preset: h100-sxm } or { name, memory_gb, memory_bandwidth_tb_s, bf16_tflops }",
  )
  .superRefine((g, ctx) => {
    const figures = (
      ["memory_gb", "memory_bandwidth_tb_s", "bf16_tflops", "fp8_tflops"] as const
    ).filter((k) => g[k] !== undefined);
    if (g.preset !== undefined) {
      if (g.name !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["name"],
          message: `a preset names its GPU (${g.preset}); 'name' is for a GPU given by its figures`,
        });
      }
      if (figures.length > 0) {
        ctx.addIssue({
          code: "custom",
          path: [figures[0]!],
          message: `a GPU is a preset or its figures, not both; remove 'preset' or ${figures.map((k) => `'${k}'`).join(", ")}`,
        });
      }
      return;
    }
    for (const key of ["memory_gb", "memory_bandwidth_tb_s", "bf16_tflops"] as const) {
      if (g[key] !== undefined) continue;
      ctx.addIssue({
        code: "custom",
        path: [key],
        message: `missing '${key}': a GPU without a preset needs memory_gb, memory_bandwidth_tb_s and bf16_tflops (fp8_tflops is optional)`,
      });
    }
  });

export type GpuOverride = z.output<typeof gpuSchema>;

const instanceSchema = z.strictObject({
  // It names output files (metrics/<name>.prom), so no spaces or slashes.
  // It names output files, and a file name holds at most 255 bytes.
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/)
    .describe(
      "a name of at most 100 letters, digits, '_', '.' and '-' starting with a letter or digit",
    ),
  role: z.enum(ROLES),
  engine: engineSchema.optional(),
  /** A `vllm serve` command line: its flags override the scenario's and this instance's engine. */
  vllm_args: vllmArgsSchema.optional(),
  /** This instance's GPU, instead of the scenario's. */
  gpu: gpuSchema.optional(),
  /** This instance's connector, instead of the scenario's kv_transfer.connector. */
  kv_transfer: connectorSpecSchema.optional(),
});

const instancesSchema = z
  .array(instanceSchema)
  .min(1)
  .describe("a non-empty list of instances")
  .superRefine((instances, ctx) => {
    indexUnique(
      instances,
      (instance) => instance.name,
      "name",
      (name, earlier) => `duplicate instance name '${name}': instances[${earlier}] already uses it`,
      ctx,
    );
  });

const kvTransferSchema = z.strictObject({
  connector: z.enum(CONNECTORS).optional(), // default: "none" if every instance is unified, else "nixl"
  /** For an offloading or lmcache connector: the kv_cache_tiers entry it uses. */
  tier: z.string().optional(),
  /** For `multi`: the connectors, asked in this order. */
  connectors: z.array(connectorEntrySchema).optional(),
  link: z
    .strictObject({
      latency_ms: latencyMs.default(0.5),
      // From 1 kB/s: slower, one transfer could outlast the clock.
      bandwidth_gb_per_s: z
        .number()
        .min(0.000001)
        .max(1_000_000)
        .describe("a number of GB/s from 0.000001 to 1000000")
        .default(25),
    })
    .prefault({}),
  load_failure_policy: z.enum(LOAD_FAILURE_POLICIES).default("fail"),
  faults: z.strictObject({ load_failure_probability: probability.default(0) }).prefault({}),
  lease_s: spanSeconds.default(30),
});

const proxySchema = z.strictObject({
  prefill_policy: z.enum(ROUTING_POLICIES).default("round_robin"),
  decode_policy: z.enum(ROUTING_POLICIES).default("round_robin"),
  /** Requests served whole by unified instances (no P/D) are routed with this policy. */
  unified_policy: z.enum(ROUTING_POLICIES).default("round_robin"),
  /** With unified and P/D instances side by side, prompts shorter than this go to unified ones. */
  pd_min_prompt_tokens: nonNegativeInt.default(0),
});

/** An instant in UTC, as Prometheus timestamps are: `2026-01-01T00:00:00Z`, milliseconds at most. */
const utcInstant = z
  .string()
  .describe("a UTC time such as '2026-01-01T00:00:00Z'")
  .refine(
    (t) =>
      /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/.test(t) &&
      Number.isFinite(Date.parse(t)),
    { message: "expected a UTC time such as '2026-01-01T00:00:00Z'" },
  );

const metricsSchema = z.strictObject({
  profile: z.enum(PROFILE_NAMES).default("vllm-pr37460"), // current vLLM
  model_name: nonEmptyText.optional(), // default: model.name
  /** How often a Prometheus server would scrape each instance, in simulated seconds. */
  scrape_interval_s: periodSeconds.default(15),
  /** The wall-clock time of simulated time 0, for the time series' sample timestamps. */
  start_time: utcInstant.default("2026-01-01T00:00:00Z"),
  /** The `job` label the scrapes add. */
  job: nonEmptyText.default("pdsim"),
});

const expectationSchema = z
  .strictObject({
    instance: text,
    metric: metricSelectorSchema,
    equals: finiteNumber.optional(),
    min: finiteNumber.optional(),
    max: finiteNumber.optional(),
    tolerance: nonNegativeNumber.optional(), // default 0
  })
  .superRefine((e, ctx) => {
    if (e.equals === undefined && e.min === undefined && e.max === undefined) {
      ctx.addIssue({
        code: "custom",
        path: [],
        message: "an expectation needs at least one of equals, min, max",
      });
    }
    if (e.min !== undefined && e.max !== undefined && e.min > e.max) {
      ctx.addIssue({
        code: "custom",
        path: ["max"],
        message: `expected max to be at least min (${e.min}), got ${e.max}`,
      });
    }
    if (e.tolerance !== undefined && e.equals === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["tolerance"],
        message: "tolerance applies to equals, which this expectation does not have",
      });
    }
  });

export const scenarioFileSchema = z
  .strictObject({
    name: nonEmptyText.optional(), // default: the file's base name without extension
    description: text.default(""),
    /** One line for scenarios/README.md: what the scenario teaches. */
    lesson: text.default(""),
    seed: nonNegativeInt.default(0),
    model: modelSchema.prefault({}),
    engine: engineSchema.default({}), // nothing overridden: DEFAULT_ENGINE
    vllm_args: vllmArgsSchema.optional(), // every instance's flags, under each instance's own
    gpu: gpuSchema.optional(), // every instance's GPU unless it names its own
    instances: instancesSchema, // required
    kv_transfer: kvTransferSchema.prefault({}),
    kv_cache_tiers: z.array(kvCacheTierSchema).default([]), // none
    proxy: proxySchema.prefault({}),
    workload: workloadSchema, // required
    metrics: metricsSchema.prefault({}),
    expect: z.array(expectationSchema).default([]), // no expectations
  })
  .describe("a mapping of scenario keys (instances, workload, ...)");

export type ScenarioFile = z.output<typeof scenarioFileSchema>;
