// A step time from the model's shapes and the GPU's datasheet: a roofline. One engine step is a
// forward pass over the batch's tokens, and it takes as long as the slower of its arithmetic
// (FLOPs over the FLOP/s the GPU achieves) and its memory traffic (the weights it reads, once a
// step whatever the batch, and the KV cache its attention reads and writes, over the bandwidth
// the GPU achieves), plus a fixed overhead for what runs on the CPU between steps. Each of the
// tensor-parallel GPUs does 1/TP of both; they run in parallel.
//
// vLLM has no such module: the GPU is what the simulator replaces. The model is the standard
// first-order one (as in the LLM-Viewer and Vidur papers' analyses): it ignores kernel launch
// gaps within the step, attention kernels' lower efficiency on short rows, and the all-reduces
// that tensor parallelism adds; guide chapter 7 (docs/guide/07-step-times.md) compares it with
// published measurements.

import type { GpuSpec } from "../deployment/gpu-presets.ts";
import { kvShards } from "../deployment/kv-cache-memory.ts";
import {
  headDim,
  isMla,
  type ModelConfig,
  parameterBreakdown,
  weightBytes,
} from "../deployment/model-config.ts";

export interface RooflineEfficiency {
  /** The share of the datasheet's dense BF16 FLOP/s the matrix multiplies achieve. */
  computeEfficiency: number;
  /** The share of the datasheet's memory bandwidth the weight and KV reads achieve. */
  bandwidthEfficiency: number;
  /** Time between steps that overlaps nothing: scheduling, input preparation, sampling. */
  overheadMs: number;
}

/** What one step's arithmetic and memory traffic cost, per unit of the batch, on one GPU. */
export interface RooflineCosts {
  kind: "roofline";
  /** FLOPs a token costs in the projections and MLPs (a routed expert's share included). */
  flopsPerToken: number;
  /** The projections' and MLPs' FLOP/s: FP8 tensor cores for FP8 weights on a GPU that has them. */
  linearFlopsPerUs: number;
  /** FLOPs of the output head for one sequence: vLLM computes logits at one position a request. */
  flopsPerSeq: number;
  /** FLOPs of one query attending to one key, over every layer and head. */
  flopsPerAttentionPair: number;
  /** Weight bytes every step reads: all but the routed experts. */
  denseWeightBytes: number;
  /** Bytes of one routed expert summed over the MoE layers; 0 for a dense model. */
  expertBytes: number;
  experts: number;
  expertsPerToken: number;
  /** KV bytes a token takes on one GPU. */
  kvBytesPerToken: number;
  /** The output head's and the attention's FLOP/s (BF16). */
  flopsPerUs: number;
  bytesPerUs: number;
  overheadUs: number;
}

/** The batch of one step, as the roofline reads it. */
export interface StepWork {
  /** Tokens the step computes: prompt chunks and one per decoding request. */
  numTokens: number;
  /** Requests in the step: each gets one row of logits. */
  numSeqs: number;
  /** Query-key pairs the attention computes (causal within a chunk). */
  numAttentionPairs: number;
  /** KV cache tokens the attention reads (context) and writes (new tokens). */
  numKvTokens: number;
}

export interface RooflineInput {
  model: ModelConfig;
  gpu: GpuSpec;
  tensorParallelSize: number;
  /** The model's KV bytes a token over every layer and head (model.kv_bytes_per_token). */
  kvBytesPerToken: number;
  efficiency: RooflineEfficiency;
}

export function rooflineCosts(input: RooflineInput): RooflineCosts {
  const { model, gpu, tensorParallelSize: tp, efficiency } = input;
  const p = parameterBreakdown(model);
  const heads = model.num_attention_heads;
  const qkDim = isMla(model)
    ? (model.qk_nope_head_dim ?? 0) + model.qk_rope_head_dim!
    : headDim(model);
  const vDim = isMla(model) ? (model.v_head_dim ?? model.qk_nope_head_dim ?? 0) : headDim(model);
  const bytes = weightBytes(model, p);
  const outputHead = p.lmHead === 0 ? p.embedding : p.lmHead;
  // The input embeddings are looked up a row a token, not read whole: only the head counts.
  const outputHeadBytes = (bytes.embeddings * outputHead) / (p.embedding + p.lmHead);
  const flopsPerUs = gpu.bf16_tflops * 1e6 * efficiency.computeEfficiency;
  const fp8 = model.quantization === "fp8" && gpu.fp8_tflops !== null;
  return {
    kind: "roofline",
    // A multiply-add is two FLOPs; each matrix is split over the tensor-parallel GPUs.
    flopsPerToken: (2 * (p.dense + p.expertsPerToken * p.moeLayers * p.expert)) / tp,
    linearFlopsPerUs: fp8 ? gpu.fp8_tflops! * 1e6 * efficiency.computeEfficiency : flopsPerUs,
    flopsPerSeq: (2 * outputHead) / tp,
    // Q·K and the weighted sum of V, each a multiply-add per element, for each head and layer.
    // MLA is counted in its expanded form, as vLLM's prefill runs it; its decode works on the
    // latent (2·(576 + 512) a head for DeepSeek-V3, about 3.4 times more), which matters little
    // there, since a decode step is bound by memory.
    flopsPerAttentionPair: (2 * model.num_hidden_layers * heads * (qkDim + vDim)) / tp,
    denseWeightBytes: (outputHeadBytes + bytes.dense) / tp,
    expertBytes: (p.moeLayers * bytes.expert) / tp,
    experts: p.experts,
    expertsPerToken: p.expertsPerToken,
    kvBytesPerToken: input.kvBytesPerToken / kvShards(model, tp),
    flopsPerUs,
    bytesPerUs: gpu.memory_bandwidth_tb_s * 1e6 * efficiency.bandwidthEfficiency,
    overheadUs: efficiency.overheadMs * 1000,
  };
}

/**
 * Routed experts a step reads a layer: with each of T tokens choosing k of E experts, about
 * E·(1 − (1 − k/E)^T) distinct ones (uniform routing), from k at one token to all E.
 */
export function expertsRead(costs: RooflineCosts, numTokens: number): number {
  const { experts, expertsPerToken } = costs;
  if (experts === 0 || numTokens === 0) return 0;
  return experts * (1 - Math.pow(1 - expertsPerToken / experts, numTokens));
}

/** The time of the step's weight reads alone, in microseconds: no step is faster. */
export function weightsReadUs(costs: RooflineCosts, numTokens: number): number {
  return (
    (costs.denseWeightBytes + expertsRead(costs, numTokens) * costs.expertBytes) / costs.bytesPerUs
  );
}

/** A step's arithmetic time and memory time in microseconds, each alone, overhead left out. */
export function rooflineTimes(
  costs: RooflineCosts,
  work: StepWork,
): { computeUs: number; memoryUs: number } {
  const otherFlops =
    costs.flopsPerSeq * work.numSeqs + costs.flopsPerAttentionPair * work.numAttentionPairs;
  return {
    computeUs:
      (costs.flopsPerToken * work.numTokens) / costs.linearFlopsPerUs +
      otherFlops / costs.flopsPerUs,
    memoryUs:
      weightsReadUs(costs, work.numTokens) +
      (costs.kvBytesPerToken * work.numKvTokens) / costs.bytesPerUs,
  };
}

/** One step's duration in microseconds, before rounding: the slower of the two, plus overhead. */
export function rooflineStepUs(costs: RooflineCosts, work: StepWork): number {
  const { computeUs, memoryUs } = rooflineTimes(costs, work);
  return Math.max(computeUs, memoryUs) + costs.overheadUs;
}
