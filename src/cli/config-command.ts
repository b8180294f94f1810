// `pdsim config SCENARIO`: the engine each instance runs, as the scenario resolves it: the model
// and the KV bytes a token takes, the GPU, the cache in blocks and tokens, how many requests of
// max_model_len tokens fit at once (the figure vLLM logs at start-up), and a few step times.
// Each value says whether the scenario gave it or pdsim derived it.

import { toGib } from "../deployment/kv-cache-memory.ts";
import { type ParameterCount, parameterCount } from "../deployment/model-config.ts";
import { decodeShape, prefillShape, type StepShape, stepDuration } from "../engine/step-latency.ts";
import { loadScenario } from "../scenario/index.ts";
import { MODEL_PRESETS, type ModelPresetName } from "../deployment/model-presets.ts";
import { renderVllmArgs } from "../scenario/render-vllm-args.ts";
import type { EngineConfig, InstanceConfig, Scenario, StepTimeConfig } from "../scenario/types.ts";
import { connectorSpecOf, pdConnectorOf } from "../scenario/connector-spec.ts";
import { renderedKvTransfer } from "../scenario/render-kv-transfer.ts";
import { EXIT_OK, exitForBadInput } from "./bad-input.ts";
import type { CliIo } from "./io.ts";

export interface ConfigOptions {
  scenario: string;
  json: boolean;
}

/** A step of each shape pdsim reports: prefills of 1k and 8k tokens, decode batches of 1, 64, 256. */
const SAMPLE_STEPS: readonly ({ name: string } & StepShape)[] = [
  { name: "prefill 1k tokens", ...prefillShape(1024) },
  { name: "prefill 8k tokens", ...prefillShape(8192) },
  // Each decoding request attends to a 1k-token context.
  { name: "decode 1 seq", ...decodeShape(1, 1024) },
  { name: "decode 64 seqs", ...decodeShape(64, 1024) },
  { name: "decode 256 seqs", ...decodeShape(256, 1024) },
];

interface Valued<T> {
  value: T;
  /** `given`: the scenario states it; `derived`: computed from what it states; `default`. */
  from: "given" | "derived" | "default";
}

export interface InstanceReport {
  name: string;
  role: string;
  model: { name: string; source: string; parameters: ParameterCount | null };
  kv_bytes_per_token: Valued<number>;
  cache_dtype: string;
  gpu: {
    name: string;
    memory_gb: number;
    memory_bandwidth_tb_s: number;
    bf16_tflops: number;
  } | null;
  block_size: number;
  num_gpu_blocks: Valued<number>;
  tensor_parallel_size: number;
  /** How the cache was sized from memory (one GPU), when num_gpu_blocks was derived. */
  kv_cache_memory_gib: {
    total: number;
    budget: number;
    weights: number;
    reserve: number;
    kv_cache: number;
  } | null;
  /** num_gpu_blocks × block_size: vLLM's "GPU KV cache size: N tokens". */
  kv_cache_tokens: number;
  max_model_len: number;
  /** kv_cache_tokens / max_model_len: vLLM's "Maximum concurrency for N tokens per request". */
  max_concurrency: number;
  step_time_model: string;
  step_times_ms: Record<string, number>;
  /** Every engine value and where it came from. */
  engine: Record<keyof EngineConfig, { value: number | boolean; from: EngineFrom }>;
  /** The vLLM flags the instance's vllm_args give that change nothing pdsim models; null without vllm_args. */
  vllm_args_ignored: string[] | null;
  /** The `vllm serve` command line that runs this engine. */
  vllm_serve: string;
  /** Where vllm_serve states what the scenario gave rather than the instance's command line. */
  vllm_serve_note: string | null;
}

/** `vLLM default`: an instance with vllm_args takes vLLM's defaults for what its flags leave out. */
type EngineFrom = "given (engine)" | "given (vllm_args)" | "default" | "vLLM default" | "derived";

function engineFrom(instance: InstanceConfig): Record<keyof EngineConfig, EngineFrom> {
  const keys = Object.keys(instance.engine) as (keyof EngineConfig)[];
  const from = (key: keyof EngineConfig): EngineFrom => {
    const source =
      instance.engine_from?.[key] ??
      (instance.engine_given?.includes(key) === true ? "engine" : "default");
    if (
      key === "num_gpu_blocks" &&
      instance.kv_cache_memory !== undefined &&
      source === "default"
    ) {
      return "derived";
    }
    switch (source) {
      case "engine":
        return "given (engine)";
      case "vllm_args":
        return "given (vllm_args)";
      case "vllm default":
        return "vLLM default";
      case "default":
        return "default";
    }
  };
  return Object.fromEntries(keys.map((k) => [k, from(k)])) as Record<
    keyof EngineConfig,
    EngineFrom
  >;
}

/**
 * The instance as one `vllm serve` line: the blocks only when vLLM would not size them alike; the
 * model and the kv_role as its command line wrote them. Where that line gives no connector (no
 * vllm_args, or kv_transfer.connector supplying it), the line states the scenario's connector
 * with the kv_role the instance's role needs, since vLLM would run no connector without one; the
 * note returned says so, rather than passing that role off as the operator's.
 */
function vllmServeLine(
  scenario: Scenario,
  instance: InstanceConfig,
  derived: boolean,
): { line: string; note: string | null } {
  const model = scenario.model;
  const { num_gpu_blocks, log_stats_interval_s: _, ...engine } = instance.engine;
  const connector = pdConnectorOf(connectorSpecOf(scenario.kv_transfer, instance));
  const role = instance.role;
  const given = instance.vllm_serve?.kv_role;
  const needed = role === "prefill" ? "kv_producer" : "kv_consumer";
  const moved = role === "unified" ? null : connector;
  const rendered = renderedKvTransfer(
    scenario,
    instance,
    given ?? (role === "unified" ? "kv_both" : needed),
  );
  const line = renderVllmArgs({
    model:
      instance.vllm_serve?.model ??
      (model.source?.kind === "preset"
        ? MODEL_PRESETS[model.source.name as ModelPresetName].huggingFace
        : model.name),
    servedName: model.name,
    engine: derived ? engine : { num_gpu_blocks, ...engine },
    cacheDtype: model.cache_dtype,
    ...(rendered === null ? {} : { kvTransferConfig: rendered.config }),
  });
  const notes = [
    moved !== null && given === undefined
      ? `--kv-transfer-config is kv_transfer.connector ${connector}, with the kv_role a ${role} instance needs: ${instance.vllm_serve === undefined ? "the instance has no vllm_args" : "its command line gives none"}`
      : null,
    rendered?.note ?? null,
  ].filter((n) => n !== null);
  return { line, note: notes.length === 0 ? null : notes.join("; ") };
}

export function configCommand(io: CliIo, opts: ConfigOptions): number {
  try {
    const scenario = loadScenario(opts.scenario);
    const reports = scenario.instances.map((instance) => instanceReport(scenario, instance));
    io.stdout.write(
      opts.json ? JSON.stringify(reports, null, 2) + "\n" : reports.map(formatReport).join("\n"),
    );
    return EXIT_OK;
  } catch (err) {
    return exitForBadInput(io, err);
  }
}

function instanceReport(scenario: Scenario, instance: InstanceConfig): InstanceReport {
  const model = scenario.model;
  const e = instance.engine;
  const sources = engineFrom(instance);
  // vLLM logs num_gpu_blocks × block_size, its null block included.
  const kvTokens = e.num_gpu_blocks * e.block_size;
  const serve = vllmServeLine(scenario, instance, sources.num_gpu_blocks === "derived");
  return {
    name: instance.name,
    role: instance.role,
    model: {
      name: model.name,
      source:
        model.source === undefined
          ? "none (kv_bytes_per_token as given or defaulted)"
          : `${model.source.kind} ${model.source.name}`,
      parameters: model.source === undefined ? null : parameterCount(model.source.config),
    },
    kv_bytes_per_token: {
      value: model.kv_bytes_per_token,
      from: model.kv_bytes_from,
    },
    cache_dtype: model.cache_dtype,
    gpu:
      instance.gpu === undefined
        ? null
        : {
            name: instance.gpu.name,
            memory_gb: instance.gpu.memory_gb,
            memory_bandwidth_tb_s: instance.gpu.memory_bandwidth_tb_s,
            bf16_tflops: instance.gpu.bf16_tflops,
          },
    block_size: e.block_size,
    num_gpu_blocks: {
      value: e.num_gpu_blocks,
      from: sources.num_gpu_blocks.startsWith("given")
        ? "given"
        : sources.num_gpu_blocks === "derived"
          ? "derived"
          : "default",
    },
    tensor_parallel_size: e.tensor_parallel_size,
    kv_cache_memory_gib:
      instance.kv_cache_memory === undefined
        ? null
        : {
            total: toGib(instance.kv_cache_memory.total),
            budget: toGib(instance.kv_cache_memory.budget),
            weights: toGib(instance.kv_cache_memory.weights),
            reserve: toGib(instance.kv_cache_memory.reserve),
            kv_cache: toGib(instance.kv_cache_memory.kvCache),
          },
    kv_cache_tokens: kvTokens,
    max_model_len: e.max_model_len,
    max_concurrency: kvTokens / e.max_model_len,
    step_time_model: describeStepTime(model.step_time, instance),
    step_times_ms: Object.fromEntries(
      SAMPLE_STEPS.map(({ name, ...shape }) => [
        name,
        stepDuration(instance.step_time, shape) / 1000,
      ]),
    ),
    engine: Object.fromEntries(
      (Object.keys(e) as (keyof EngineConfig)[]).map((k) => [k, { value: e[k], from: sources[k] }]),
    ) as InstanceReport["engine"],
    vllm_args_ignored:
      instance.vllm_args_ignored === undefined ? null : [...instance.vllm_args_ignored],
    vllm_serve: serve.line,
    vllm_serve_note: serve.note,
  };
}

function describeStepTime(s: StepTimeConfig, instance: InstanceConfig): string {
  if (s.model === "linear") {
    return `linear: ${s.base_ms} ms + ${s.per_prefill_token_us} µs a prefill token + ${s.per_decode_seq_us} µs a decoding request + ${s.per_context_token_ns} ns a context token`;
  }
  const gpu = instance.gpu!;
  return `roofline on ${gpu.name} × ${instance.engine.tensor_parallel_size}: ${s.compute_efficiency} of ${gpu.bf16_tflops} BF16 TFLOP/s, ${s.bandwidth_efficiency} of ${gpu.memory_bandwidth_tb_s} TB/s, + ${s.overhead_ms} ms a step`;
}

function formatReport(r: InstanceReport): string {
  const params =
    r.model.parameters === null
      ? ""
      : ` (${(r.model.parameters.total / 1e9).toFixed(2)} B parameters, ${(r.model.parameters.active / 1e9).toFixed(2)} B active)`;
  const gpu =
    r.gpu === null
      ? "none named"
      : `${r.gpu.name}: ${r.gpu.memory_gb} GB, ${r.gpu.memory_bandwidth_tb_s} TB/s, ${r.gpu.bf16_tflops} BF16 TFLOP/s`;
  const lines = [
    `${r.name} (${r.role})`,
    `  model               ${r.model.name}, from ${r.model.source}${params}`,
    `  KV bytes per token  ${r.kv_bytes_per_token.value.toLocaleString("en-US")} (${r.kv_bytes_per_token.from}; cache dtype ${r.cache_dtype})`,
    `  GPU                 ${gpu}`,
    `  blocks              ${r.num_gpu_blocks.value.toLocaleString("en-US")} of ${r.block_size} tokens (${r.num_gpu_blocks.from})`,
    ...(r.kv_cache_memory_gib === null
      ? []
      : [
          `  memory (a GPU)      ${r.kv_cache_memory_gib.total} GiB × utilization = ${r.kv_cache_memory_gib.budget} GiB: weights ${r.kv_cache_memory_gib.weights}, reserve ${r.kv_cache_memory_gib.reserve}, KV cache ${r.kv_cache_memory_gib.kv_cache} GiB (tensor_parallel_size ${r.tensor_parallel_size})`,
        ]),
    `  GPU KV cache size   ${r.kv_cache_tokens.toLocaleString("en-US")} tokens`,
    `  max concurrency     ${r.max_concurrency.toFixed(2)}x for ${r.max_model_len.toLocaleString("en-US")} tokens per request`,
    `  step time           ${r.step_time_model}`,
    ...Object.entries(r.step_times_ms).map(
      ([name, ms]) => `    ${name.padEnd(18)}${ms.toFixed(3)} ms`,
    ),
    "  engine",
    ...Object.entries(r.engine).map(
      ([key, { value, from }]) => `    ${key.padEnd(30)}${String(value).padStart(8)}  ${from}`,
    ),
    ...(r.vllm_args_ignored === null || r.vllm_args_ignored.length === 0
      ? []
      : [`  ignored vLLM flags  ${r.vllm_args_ignored.join(", ")}`]),
    `  vllm serve          ${r.vllm_serve.replace(/^vllm serve /, "")}`,
    ...(r.vllm_serve_note === null ? [] : [`                      (${r.vllm_serve_note})`]),
    "",
  ];
  return lines.join("\n");
}
