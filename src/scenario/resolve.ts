// Turns a validated scenario file into the resolved Scenario: fills the defaults that depend
// on other keys, merges each instance's engine settings and records source lines.
import { kvBytesPerToken, readModelConfig } from "../deployment/model-config.ts";
import { MODEL_PRESETS } from "../deployment/model-presets.ts";
import { gib, kvCacheMemory } from "../deployment/kv-cache-memory.ts";
import type { GpuSpec } from "../deployment/gpu-presets.ts";
import { rooflineCosts, type RooflineEfficiency } from "../engine/roofline.ts";
import type { StepTimeModel } from "../engine/step-latency.ts";
import { ScenarioError } from "./errors.ts";
import type { PathSegment } from "./paths.ts";
import {
  DEFAULT_KV_BYTES_PER_TOKEN,
  DEFAULT_MODEL_NAME,
  MAX_GPU_BLOCKS,
  type ScenarioFile,
} from "./schema.ts";
import type {
  ConnectorName,
  EngineConfig,
  ExplicitRequestConfig,
  InstanceConfig,
  ModelSpec,
  RooflineStepTimeConfig,
  Scenario,
  WorkloadConfig,
} from "./types.ts";
import type { WorkloadSpec } from "./workload-schema.ts";
import { instanceEngine, type InstanceEngine } from "./instance-engine.ts";
import { instanceVllmServe, vllmClaims, type VllmClaims } from "./vllm-checks.ts";
import { checkVllmArgsAgainstConfig } from "./vllm-model-checks.ts";
import { formatPath } from "./paths.ts";

/** Disaggregation needs a connector; a cluster of unified instances moves no KV. */
export function defaultConnector(roles: readonly InstanceConfig["role"][]): ConnectorName {
  return roles.every((role) => role === "unified") ? "none" : "nixl";
}

/** How a scenario reaches the files it names: a model's config.json is read, a trace's placed. */
export interface ScenarioFiles {
  /** `relative` (or an absolute path) as seen from the scenario file `from`. */
  resolve(from: string, relative: string): string;
  /** The file's UTF-8 text; throws an error with `code` ENOENT when there is no such file. */
  readText(path: string): string;
}

export interface ResolveContext {
  file: string;
  files: ScenarioFiles;
  lineOf(path: readonly PathSegment[]): number;
}

export function resolveScenario(parsed: ScenarioFile, context: ResolveContext): Scenario {
  const { file, lineOf } = context;
  const claims = vllmClaims(parsed);
  const model = resolveModel(parsed, context, claims);
  const instances: InstanceConfig[] = parsed.instances.map((instance, i) => {
    const engine = engineOf(instanceEngine(parsed, i));
    const line = lineOf(["instances", i]);
    const vllmServe = instanceVllmServe(parsed, i);
    return sizedFromMemory(
      {
        name: instance.name,
        role: instance.role,
        ...engine,
        ...(vllmServe === undefined ? {} : { vllm_serve: vllmServe }),
        ...(instance.kv_transfer === undefined ? {} : { kv_connector: instance.kv_transfer }),
        step_time: stepTimeOf(model, engine.engine, engine.gpu, {
          file,
          line,
          name: instance.name,
        }),
        line,
      },
      model,
      file,
    );
  });
  return {
    file,
    name: parsed.name ?? fileStem(file),
    description: parsed.description,
    lesson: parsed.lesson,
    seed: parsed.seed,
    model,
    instances,
    kv_transfer: {
      ...parsed.kv_transfer,
      connector:
        parsed.kv_transfer.connector ??
        claims.connector ??
        defaultConnector(instances.map((i) => i.role)),
    },
    kv_cache_tiers: parsed.kv_cache_tiers.map((tier, i) => ({
      name: tier.name,
      scope: tier.scope,
      capacity_tokens: tierCapacityTokens(tier, i, model.kv_bytes_per_token, context),
      chunk_tokens: tier.chunk_tokens,
      load: tier.load,
      store: tier.store,
      line: lineOf(["kv_cache_tiers", i]),
    })),
    proxy: parsed.proxy,
    workload: resolveWorkload(parsed.workload, lineOf, context),
    metrics: {
      profile: parsed.metrics.profile,
      model_name: parsed.metrics.model_name ?? model.name,
      scrape_interval_s: parsed.metrics.scrape_interval_s,
      start_time: parsed.metrics.start_time,
      job: parsed.metrics.job,
    },
    expect: parsed.expect.map((e, i) => ({
      instance: e.instance,
      metric: e.metric.metric,
      selector: e.metric.selector,
      ...(e.equals === undefined ? {} : { equals: e.equals }),
      ...(e.min === undefined ? {} : { min: e.min }),
      ...(e.max === undefined ? {} : { max: e.max }),
      tolerance: e.tolerance ?? 0,
      line: lineOf(["expect", i]),
    })),
  };
}

/** A tier's size in tokens; one given in GB must still hold a chunk of KV at the model's size. */
function tierCapacityTokens(
  tier: ScenarioFile["kv_cache_tiers"][number],
  index: number,
  kvBytesPerToken: number,
  context: ResolveContext,
): number {
  if (tier.capacity_tokens !== undefined) return tier.capacity_tokens;
  const tokens = Math.floor((tier.capacity_gb! * 1e9) / kvBytesPerToken);
  if (tokens >= tier.chunk_tokens) return tokens;
  const path = ["kv_cache_tiers", index, "capacity_gb"];
  throw new ScenarioError([
    {
      file: context.file,
      line: context.lineOf(path),
      column: 1,
      path: formatPath(path),
      message: `tier '${tier.name}' holds ${tier.capacity_gb} GB, ${tokens} tokens at ${kvBytesPerToken} bytes a token, less than one chunk of ${tier.chunk_tokens}; expected at least ${((tier.chunk_tokens * kvBytesPerToken) / 1e9).toPrecision(3)} GB`,
    },
  ]);
}

function resolveWorkload(
  workload: WorkloadSpec,
  lineOf: ResolveContext["lineOf"],
  { file: scenarioFile, files }: ResolveContext,
): WorkloadConfig {
  switch (workload.kind) {
    case "sessions":
      return workload;
    case "trace":
      return {
        ...workload,
        file: files.resolve(scenarioFile, workload.path),
        ...(workload.tokenizer === undefined
          ? {}
          : { tokenizer_file: files.resolve(scenarioFile, workload.tokenizer) }),
      };
    case "generated":
      return workload;
    case "explicit":
      return {
        kind: "explicit",
        concurrency: workload.concurrency,
        requests: workload.requests.map((r, i): ExplicitRequestConfig => ({
          id: r.id,
          at_s: r.at_s,
          ...(r.prompt_tokens === undefined ? {} : { prompt_tokens: r.prompt_tokens }),
          ...(r.prompt_from === undefined ? {} : { prompt_from: r.prompt_from }),
          ...(r.prefix === undefined ? {} : { prefix: r.prefix }),
          max_tokens: r.max_tokens,
          ...(r.output_tokens === undefined ? {} : { output_tokens: r.output_tokens }),
          line: lineOf(["workload", "requests", i]),
        })),
      };
  }
}

type ParsedModel = ScenarioFile["model"];

/**
 * The served name: as given, else as the command lines serve it, else the preset's Hugging Face
 * name, else the default model's.
 */
function modelName(model: ParsedModel, claims: VllmClaims): string {
  if (model.name !== undefined) return model.name;
  if (claims.servedName !== undefined) return claims.servedName;
  return model.preset === undefined ? DEFAULT_MODEL_NAME : MODEL_PRESETS[model.preset].huggingFace;
}

/** The model's shapes from its preset or config.json, and the KV bytes a token takes from them. */
function resolveModel(
  parsed: ScenarioFile,
  context: ResolveContext,
  claims: VllmClaims,
): ModelSpec {
  const model = parsed.model;
  const source = modelSource(model, context);
  if (source !== undefined) checkAgainstConfig(parsed, source, context);
  const cacheDtype = model.cache_dtype ?? claims.cacheDtype ?? "auto";
  const kvBytes =
    model.kv_bytes_per_token ??
    (source === undefined
      ? DEFAULT_KV_BYTES_PER_TOKEN
      : kvBytesPerToken(source.config, cacheDtype));
  return {
    name: modelName(model, claims),
    kv_bytes_per_token: kvBytes,
    kv_bytes_from:
      model.kv_bytes_per_token !== undefined
        ? "given"
        : source === undefined
          ? "default"
          : "derived",
    step_time: model.step_time,
    cache_dtype: cacheDtype,
    ...(source === undefined ? {} : { source }),
  };
}

/** What the command lines say of the weights and the cache that only the config.json settles. */
function checkAgainstConfig(
  parsed: ScenarioFile,
  source: NonNullable<ModelSpec["source"]>,
  context: ResolveContext,
): void {
  const what = source.kind === "preset" ? `model.preset ${source.name}` : `'${source.name}'`;
  const problems = checkVllmArgsAgainstConfig(parsed, source.config, what);
  if (problems.length === 0) return;
  throw new ScenarioError(
    problems.map((p) => ({
      file: context.file,
      line: context.lineOf(p.path),
      column: 1,
      path: formatPath(p.path),
      message: p.message,
    })),
  );
}

function modelSource(model: ParsedModel, context: ResolveContext): ModelSpec["source"] {
  if (model.preset !== undefined) {
    return { kind: "preset", name: model.preset, config: MODEL_PRESETS[model.preset].config };
  }
  if (model.config === undefined) return undefined;
  const file = context.files.resolve(context.file, model.config);
  const fail = (message: string): never => {
    throw new ScenarioError([
      {
        file: context.file,
        line: context.lineOf(["model", "config"]),
        column: 1,
        path: "model.config",
        message,
      },
    ]);
  };
  let json: unknown;
  try {
    json = JSON.parse(context.files.readText(file));
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return fail(
      code === "ENOENT"
        ? `no config.json at '${model.config}' (${file})`
        : `cannot read '${model.config}' as JSON: ${(error as Error).message}`,
    );
  }
  const read = readModelConfig(json);
  if ("problems" in read) {
    return fail(
      `'${model.config}' is not a config.json pdsim can use: ${read.problems.join("; ")}`,
    );
  }
  return { kind: "config", name: model.config, config: read.config };
}

/**
 * The instance's step-time model: the linear one's costs as stated, or the roofline's from the
 * model's shapes and the instance's GPU, which it then needs.
 */
function stepTimeOf(
  model: ModelSpec,
  engine: EngineConfig,
  gpu: GpuSpec | undefined,
  where: { file: string; line: number; name: string },
): StepTimeModel {
  const s = model.step_time;
  if (s.model === "linear") {
    return {
      kind: "linear",
      baseMs: s.base_ms,
      perPrefillTokenUs: s.per_prefill_token_us,
      perDecodeSeqUs: s.per_decode_seq_us,
      perContextTokenNs: s.per_context_token_ns,
    };
  }
  const missing = [
    ...(model.source === undefined
      ? ["a model preset or config.json (model.preset or model.config)"]
      : []),
    ...(gpu === undefined ? ["a GPU (gpu, for the scenario or the instance)"] : []),
  ];
  if (model.source === undefined || gpu === undefined) {
    throw new ScenarioError([
      {
        file: where.file,
        line: where.line,
        column: 1,
        path: `instances.${where.name}`,
        message: `step_time model roofline needs ${missing.join(" and ")}; instance '${where.name}' has none`,
      },
    ]);
  }
  return rooflineCosts({
    model: model.source.config,
    gpu,
    tensorParallelSize: engine.tensor_parallel_size,
    kvBytesPerToken: model.kv_bytes_per_token,
    efficiency: rooflineEfficiency(s),
  });
}

/** A scenario's roofline keys (or ROOFLINE_DEFAULTS) as the roofline takes them. */
export function rooflineEfficiency(
  s: Pick<RooflineStepTimeConfig, "compute_efficiency" | "bandwidth_efficiency" | "overhead_ms">,
): RooflineEfficiency {
  return {
    computeEfficiency: s.compute_efficiency,
    bandwidthEfficiency: s.bandwidth_efficiency,
    overheadMs: s.overhead_ms,
  };
}

/** The instance's engine and GPU, and where its engine values came from. */
function engineOf(
  e: InstanceEngine,
): Pick<InstanceConfig, "engine" | "gpu" | "engine_given" | "engine_from" | "vllm_args_ignored"> {
  const given = (Object.keys(e.from) as (keyof EngineConfig)[]).filter(
    (key) => e.from[key] === "engine" || e.from[key] === "vllm_args",
  );
  const ignored = [...e.vllmArgs].reverse().flatMap((a) => a.ignored);
  return {
    engine: e.engine,
    ...(e.gpu === undefined ? {} : { gpu: e.gpu }),
    ...(given.length === 0 ? {} : { engine_given: given }),
    ...(e.vllmArgs.length === 0
      ? {}
      : { engine_from: e.from, vllm_args_ignored: [...new Set(ignored)] }),
  };
}

/**
 * With a GPU and a model's shapes, and no num_gpu_blocks stated, the blocks as vLLM would size
 * its cache (src/deployment/kv-cache-memory.ts); a model that does not fit is bad input.
 */
function sizedFromMemory(instance: InstanceConfig, model: ModelSpec, file: string): InstanceConfig {
  const gpu = instance.gpu;
  if (gpu === undefined || model.source === undefined) return instance;
  // --num-gpu-blocks-override replaces the blocks vLLM sized, after the sizing's checks.
  const override = instance.engine_from?.num_gpu_blocks === "vllm_args";
  if (instance.engine_given?.includes("num_gpu_blocks") === true && !override) return instance;
  const e = instance.engine;
  const memory = kvCacheMemory({
    gpu,
    model: model.source.config,
    kvBytesPerToken: model.kv_bytes_per_token,
    blockSize: e.block_size,
    gpuMemoryUtilization: e.gpu_memory_utilization,
    tensorParallelSize: e.tensor_parallel_size,
    maxNumSeqs: e.max_num_seqs,
  });
  const refuse = (message: string): never => {
    throw new ScenarioError([
      { file, line: instance.line, column: 1, path: `instances.${instance.name}`, message },
    ]);
  };
  const where = `${model.name} on ${gpu.name} at tensor_parallel_size ${e.tensor_parallel_size}`;
  if (memory.kvCache <= 0) {
    refuse(
      `${where} does not fit: weights ${gib(memory.weights)} and the profiling reserve ${gib(memory.reserve)} a GPU exceed its budget of ${gib(memory.budget)} (gpu_memory_utilization ${e.gpu_memory_utilization}) by ${gib(-memory.kvCache)}; raise tensor_parallel_size or gpu_memory_utilization, or pick a larger GPU`,
    );
  }
  const needed = Math.ceil(e.max_model_len / e.block_size) + 1;
  const blocks = Math.min(memory.numGpuBlocks, MAX_GPU_BLOCKS);
  if (blocks < needed) {
    refuse(
      `${where} leaves ${gib(memory.kvCache)} of KV cache, ${memory.numGpuBlocks} blocks of ${e.block_size} tokens: fewer than the ${needed} one request of max_model_len ${e.max_model_len} needs; lower max_model_len or give the cache more memory`,
    );
  }
  if (override) return { ...instance, kv_cache_memory: memory };
  return { ...instance, engine: { ...e, num_gpu_blocks: blocks }, kv_cache_memory: memory };
}

/** The file's name without its directory and extension: `scenarios/pd-basic.yaml` → `pd-basic`. */
function fileStem(file: string): string {
  const name = file.slice(file.lastIndexOf("/") + 1);
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(0, dot) : name;
}
