// One instance's engine from the levels that set it, later levels winning: the defaults, the
// scenario's `engine`, the scenario's `vllm_args`, the instance's `engine`, the instance's
// `vllm_args`. An instance that has vllm_args at either level starts from vLLM 0.19's defaults for
// `vllm serve` (vllm/engine/arg_utils.py) rather than pdsim's: that is what the operator who
// pasted the command line expects of the flags it leaves out.
import { GPU_PRESETS, type GpuSpec } from "../deployment/gpu-presets.ts";
import { gpuTotalMemory } from "../deployment/kv-cache-memory.ts";
import {
  VLLM_BATCH_DEFAULTS,
  VLLM_SERVE_FLAGS,
  type VllmServeFlag,
} from "../deployment/vllm-serve-flags.ts";
import { DEFAULT_ENGINE, type EngineOverride } from "./engine-schema.ts";
import type { PathSegment } from "./paths.ts";
import type { GpuOverride, ScenarioFile } from "./schema.ts";
import type { EngineConfig, EngineSource } from "./types.ts";
import { ENGINE_KEY_FLAGS, type VllmArgs } from "./vllm-args.ts";

export interface InstanceEngine {
  engine: EngineConfig;
  from: Record<keyof EngineConfig, EngineSource>;
  /** For each given key, the path of the level that gave it last, to point an error at. */
  givenAt: Partial<Record<keyof EngineConfig, readonly PathSegment[]>>;
  /** The instance's vllm_args and the scenario's, the instance's first; empty without either. */
  vllmArgs: VllmArgs[];
  gpu?: GpuSpec;
}

const GiB = 2 ** 30;
const KEYS = Object.keys(DEFAULT_ENGINE) as (keyof EngineConfig)[];

/**
 * vLLM's defaults that do not depend on the GPU, from a flag table's `default` fields: the one
 * place they are written. max_num_seqs and max_num_batched_tokens depend on it (batchDefaults).
 */
export function vllmFlagDefaults(
  flags: readonly VllmServeFlag[],
): Partial<Record<keyof EngineConfig, number | boolean>> {
  const byName = new Map(flags.map((f) => [f.name, f.default]));
  const defaults: Partial<Record<keyof EngineConfig, number | boolean>> = {};
  for (const key of KEYS) {
    const flag = ENGINE_KEY_FLAGS[key];
    const value = flag === undefined ? undefined : byName.get(flag);
    if (typeof value === "number" || typeof value === "boolean") defaults[key] = value;
  }
  return defaults;
}

const VLLM_FLAG_DEFAULTS = vllmFlagDefaults(VLLM_SERVE_FLAGS);

/** The keys whose vLLM default pdsim takes for an instance with vllm_args (the rest are pdsim's). */
const VLLM_DEFAULTED: readonly (keyof EngineConfig)[] = [
  ...(Object.keys(VLLM_FLAG_DEFAULTS) as (keyof EngineConfig)[]),
  "max_num_batched_tokens",
  "max_num_seqs",
];

export function instanceEngine(file: ScenarioFile, index: number): InstanceEngine {
  const instance = file.instances[index]!;
  const levels: [EngineOverride | undefined, EngineSource, PathSegment[]][] = [
    [file.engine, "engine", ["engine"]],
    [file.vllm_args?.engine, "vllm_args", ["vllm_args"]],
    [instance.engine, "engine", ["instances", index, "engine"]],
    [instance.vllm_args?.engine, "vllm_args", ["instances", index, "vllm_args"]],
  ];
  const vllmArgs = [instance.vllm_args, file.vllm_args].filter((a) => a !== undefined);
  const engine: EngineConfig = { ...DEFAULT_ENGINE };
  const from = Object.fromEntries(KEYS.map((k) => [k, "default"])) as InstanceEngine["from"];
  const givenAt: InstanceEngine["givenAt"] = {};
  for (const [level, source, path] of levels) {
    for (const key of KEYS) {
      const value = level?.[key];
      if (value === undefined) continue;
      Object.assign(engine, { [key]: value });
      from[key] = source;
      givenAt[key] = source === "engine" ? [...path, key] : path;
    }
  }
  const gpu = gpuOf(instance.gpu ?? file.gpu);
  if (vllmArgs.length > 0) {
    const mode = vllmArgs.find((a) => a.performance_mode !== undefined)?.performance_mode;
    applyVllmDefaults(engine, from, gpu, mode === "throughput");
  }
  return { engine, from, givenAt, vllmArgs, ...(gpu === undefined ? {} : { gpu }) };
}

/**
 * vLLM's defaults for what no level gives. The batch limits follow
 * _set_default_max_num_seqs_and_batched_tokens_args: the GPU's pair, doubled in throughput mode;
 * without chunked prefill at least max_model_len tokens a step; at most max_num_seqs ×
 * max_model_len tokens; and no more sequences than tokens.
 */
function applyVllmDefaults(
  engine: EngineConfig,
  from: InstanceEngine["from"],
  gpu: GpuSpec | undefined,
  throughput: boolean,
): void {
  for (const key of VLLM_DEFAULTED) {
    if (from[key] !== "default") continue;
    from[key] = "vllm default";
    const value = VLLM_FLAG_DEFAULTS[key];
    if (value !== undefined) Object.assign(engine, { [key]: value });
  }
  const batch = batchDefaults(gpu);
  const factor = throughput ? 2 : 1;
  const seqsGiven = from.max_num_seqs !== "vllm default";
  const seqs = seqsGiven ? engine.max_num_seqs : batch.max_num_seqs * factor;
  if (from.max_num_batched_tokens === "vllm default") {
    let tokens = batch.max_num_batched_tokens * factor;
    if (!engine.enable_chunked_prefill) tokens = Math.max(engine.max_model_len, tokens);
    engine.max_num_batched_tokens = Math.min(seqs * engine.max_model_len, tokens);
  }
  if (!seqsGiven) engine.max_num_seqs = Math.min(seqs, engine.max_num_batched_tokens);
}

/** vLLM's larger pair for a GPU of at least 70 GiB that is not an A100; without a GPU, the smaller. */
function batchDefaults(gpu: GpuSpec | undefined): {
  max_num_seqs: number;
  max_num_batched_tokens: number;
} {
  const d = VLLM_BATCH_DEFAULTS;
  if (gpu === undefined) return d.other;
  const large =
    gpuTotalMemory(gpu) >= d.largeGpuMinGib * GiB &&
    !gpu.name.toLowerCase().includes(d.largeGpuExcept);
  return large ? d.large : d.other;
}

/** The GPU as a preset names it or as its figures give it; nothing when none is named. */
export function gpuOf(gpu: GpuOverride | undefined): GpuSpec | undefined {
  if (gpu === undefined) return undefined;
  if (gpu.preset !== undefined) return GPU_PRESETS[gpu.preset];
  return {
    // Without a name vLLM's batch defaults see no "a100": a large GPU gets the H100's pair.
    name: gpu.name ?? "custom",
    memory_gb: gpu.memory_gb!,
    memory_bandwidth_tb_s: gpu.memory_bandwidth_tb_s!,
    bf16_tflops: gpu.bf16_tflops!,
    fp8_tflops: gpu.fp8_tflops ?? null,
    source: "the scenario",
  };
}
