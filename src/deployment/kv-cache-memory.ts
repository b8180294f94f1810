// How many KV blocks fit on a GPU, as vLLM's start-up works it out
// (vllm/v1/worker/gpu_worker.py, determine_available_memory; vllm/v1/core/kv_cache_utils.py):
// the GPU's memory times gpu_memory_utilization, less the weights and what a profiling run of
// the largest batch used besides them, is the KV cache; divided by a block's bytes, the blocks.
//
// vLLM measures that reserve by running the model; pdsim estimates it. The estimate is fitted to
// vLLM 0.19's start-up logs on H100 (llm-d-incubation/llm-d-planner, accuracy/results/v0.19.0/
// logs/): for Llama 3.1 8B, Qwen3 8B and their kin, the reserve was the profiling run's torch
// peak, which tracks the sampler's float32 logits (vocab_size × max_num_seqs), plus memory
// outside torch, which grows by the NCCL buffers under tensor parallelism.

import type { GpuSpec } from "./gpu-presets.ts";
import { type ModelConfig, isMla, parameterBreakdown, weightBytes } from "./model-config.ts";

const GiB = 2 ** 30;

/** torch reports 79.19 GiB on an H100 sold as 80 GB: the driver and ECC keep about 1 %. */
const USABLE_SHARE = 0.99;
/** Memory outside torch at TP 1 (CUDA context, allocator), and what NCCL adds under TP > 1. */
const NON_TORCH_GIB = 0.25;
const NCCL_GIB = 1.85;
/** The profiling run's torch peak: a constant plus the sampler's logits, per vocab entry and sequence. */
const PEAK_BASE_GIB = 0.16;
const PEAK_BYTES_PER_VOCAB_SEQ = 14_500 / 1024;

export interface KvCacheMemoryInput {
  gpu: GpuSpec;
  model: ModelConfig;
  /** The model's KV bytes a token over all its layers and heads. */
  kvBytesPerToken: number;
  blockSize: number;
  gpuMemoryUtilization: number;
  tensorParallelSize: number;
  maxNumSeqs: number;
}

/** Each amount in bytes, on one GPU of the instance. */
export interface KvCacheMemory {
  total: number;
  /** total × gpu_memory_utilization: what vLLM allows itself. */
  budget: number;
  weights: number;
  /** The profiling run's peak and the memory outside torch. */
  reserve: number;
  /** budget − weights − reserve; negative when the model does not fit. */
  kvCache: number;
  /** KV bytes a token takes on one GPU: the KV heads are split across the tensor-parallel ranks. */
  kvBytesPerTokenPerGpu: number;
  numGpuBlocks: number;
}

export function kvCacheMemory(input: KvCacheMemoryInput): KvCacheMemory {
  const { gpu, model, tensorParallelSize: tp } = input;
  const total = gpuTotalMemory(gpu);
  const budget = total * input.gpuMemoryUtilization;
  const p = parameterBreakdown(model);
  const bytes = weightBytes(model, p);
  const weights = (bytes.embeddings + bytes.dense + p.moeLayers * p.experts * bytes.expert) / tp;
  const reserve =
    (NON_TORCH_GIB + PEAK_BASE_GIB + (tp > 1 ? NCCL_GIB : 0)) * GiB +
    model.vocab_size * input.maxNumSeqs * PEAK_BYTES_PER_VOCAB_SEQ;
  const kvCache = budget - weights - reserve;
  const kvBytesPerTokenPerGpu = input.kvBytesPerToken / kvShards(model, tp);
  const numGpuBlocks = Math.max(0, Math.floor(kvCache / (kvBytesPerTokenPerGpu * input.blockSize)));
  return { total, budget, weights, reserve, kvCache, kvBytesPerTokenPerGpu, numGpuBlocks };
}

/** The GPU's memory as torch reports it, in bytes. */
export function gpuTotalMemory(gpu: GpuSpec): number {
  return gpu.memory_gb * GiB * USABLE_SHARE;
}

/**
 * Over how many ranks a token's KV is split: the KV heads divide among them, down to one head a
 * rank (fewer heads than ranks are replicated); MLA's single latent is kept whole on every rank.
 */
export function kvShards(model: ModelConfig, tp: number): number {
  if (isMla(model)) return 1;
  const heads = model.num_key_value_heads ?? model.num_attention_heads;
  return Math.min(tp, heads);
}

/** Bytes in GiB, to two decimals, as vLLM's start-up log gives memory. */
export function toGib(bytes: number): number {
  return Math.round((bytes / GiB) * 100) / 100;
}

export function gib(bytes: number): string {
  return `${(bytes / GiB).toFixed(2)} GiB`;
}
