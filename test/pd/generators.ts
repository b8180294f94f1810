// fast-check generators of small random P/D clusters (1–3 prefill and 1–3 decode instances with
// their own block and pool sizes, every routing policy, shared prefixes) and their scenarios.
import fc from "fast-check";
import type { Scenario } from "../../src/scenario/index.ts";
import { STEP_TIME, scenarioFrom } from "./helpers.ts";

export const POLICIES = ["round_robin", "least_loaded", "prefix_aware"] as const;

export interface InstanceDraw {
  blockSize: number;
  spareBlocks: number;
  maxNumSeqs: number;
}

export interface FaultDraw {
  policy: "fail" | "recompute";
  loadFailureProbability: number;
  leaseS: number;
}

export interface ClusterDraw {
  seed: number;
  prefill: InstanceDraw[];
  decode: InstanceDraw[];
  prefillPolicy: (typeof POLICIES)[number];
  decodePolicy: (typeof POLICIES)[number];
  maxModelLen: number;
  latencyMs: number;
  bandwidthGbPerS: number;
  numRequests: number;
  ratePerS: number;
  promptMin: number;
  promptSpan: number;
  maxTokens: number;
  prefixGroups: number;
  prefixTokens: number;
  prefixProbability: number;
  /** Bursts of short prompts with long outputs on small decode pools: decode-side preemption. */
  decodePressure: boolean;
  faults: FaultDraw | null;
}

const instanceDraw: fc.Arbitrary<InstanceDraw> = fc.record({
  blockSize: fc.constantFrom(4, 8, 16, 32),
  // Few spare blocks over vLLM's minimum make the decode side preempt.
  spareBlocks: fc.oneof(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 5, max: 200 })),
  maxNumSeqs: fc.integer({ min: 1, max: 32 }),
});

/** Load failures and leases: whole and partial failures, leases shorter than a read or longer. */
export const faultDraw: fc.Arbitrary<FaultDraw> = fc.record({
  policy: fc.constantFrom("fail", "recompute"),
  loadFailureProbability: fc.oneof(
    fc.constant(0),
    fc.constant(1),
    fc.double({ min: 0, max: 1, noNaN: true }),
  ),
  leaseS: fc.oneof(
    fc.double({ min: 0.0001, max: 0.003, noNaN: true }),
    fc.double({ min: 0.003, max: 0.05, noNaN: true }),
    fc.constant(30),
  ),
});

export function clusterDraw<F extends FaultDraw | null>(
  faults: fc.Arbitrary<F>,
): fc.Arbitrary<ClusterDraw & { faults: F }> {
  return fc.record({
    seed: fc.nat({ max: 1_000_000 }),
    prefill: fc.array(instanceDraw, { minLength: 1, maxLength: 3 }),
    decode: fc.array(instanceDraw, { minLength: 1, maxLength: 3 }),
    prefillPolicy: fc.constantFrom(...POLICIES),
    decodePolicy: fc.constantFrom(...POLICIES),
    maxModelLen: fc.integer({ min: 48, max: 320 }),
    latencyMs: fc.double({ min: 0, max: 2, noNaN: true }),
    // Slow links make reads overlap on one link.
    bandwidthGbPerS: fc.oneof(
      fc.double({ min: 0.05, max: 1, noNaN: true }),
      fc.double({ min: 1, max: 50, noNaN: true }),
    ),
    numRequests: fc.integer({ min: 1, max: 30 }),
    ratePerS: fc.integer({ min: 5, max: 3000 }),
    // Short prompts with long outputs are what makes decode instances preempt.
    promptMin: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 200 })),
    promptSpan: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 150 })),
    maxTokens: fc.integer({ min: 1, max: 200 }),
    prefixGroups: fc.integer({ min: 1, max: 3 }),
    prefixTokens: fc.integer({ min: 1, max: 160 }),
    prefixProbability: fc.oneof(
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.double({ min: 0.7, max: 1, noNaN: true }),
    ),
    decodePressure: fc.boolean(),
    faults,
  });
}

/**
 * vLLM's minimum pool: one max_model_len sequence plus the null block, and a few spare blocks.
 * Decode pools this tight fill with requests in WAITING_FOR_REMOTE_KVS, which hold blocks for
 * their whole prompt outside the running list; they stay schedulable because they wait in
 * their own queue, scanned before the one where preempted requests go.
 */
function instanceConfig(
  name: string,
  role: "prefill" | "decode",
  d: InstanceDraw,
  maxModelLen: number,
) {
  return {
    name,
    role,
    engine: {
      block_size: d.blockSize,
      num_gpu_blocks: Math.ceil(maxModelLen / d.blockSize) + 1 + d.spareBlocks,
      max_num_seqs: d.maxNumSeqs,
      max_num_batched_tokens: Math.max(d.maxNumSeqs, maxModelLen),
    },
  };
}

export function scenarioOf(draw: ClusterDraw): Scenario {
  return scenarioFrom(scenarioFileOf(draw));
}

/** The scenario file (a plain object, before the loader) that `scenarioOf` parses. */
export function scenarioFileOf(draw: ClusterDraw): Record<string, unknown> {
  const d = draw.decodePressure ? underPressure(draw) : draw;
  // Every prompt fits max_model_len, so no instance refuses a request outright.
  const promptMax = Math.min(d.promptMin + d.promptSpan, d.maxModelLen - 1);
  const promptMin = Math.min(d.promptMin, promptMax);
  return {
    seed: d.seed,
    model: { step_time: STEP_TIME },
    engine: { max_model_len: d.maxModelLen, log_stats_interval_s: 1 },
    instances: [
      ...d.prefill.map((p, i) => instanceConfig(`p${i}`, "prefill", p, d.maxModelLen)),
      ...d.decode.map((p, i) => instanceConfig(`d${i}`, "decode", p, d.maxModelLen)),
    ],
    kv_transfer: {
      connector: "nixl",
      link: { latency_ms: d.latencyMs, bandwidth_gb_per_s: d.bandwidthGbPerS },
      ...(d.faults === null
        ? {}
        : {
            load_failure_policy: d.faults.policy,
            faults: { load_failure_probability: d.faults.loadFailureProbability },
            lease_s: d.faults.leaseS,
          }),
    },
    proxy: { prefill_policy: d.prefillPolicy, decode_policy: d.decodePolicy },
    workload: {
      num_requests: d.numRequests,
      arrival: { process: "poisson", rate_per_s: d.ratePerS },
      prompt_tokens: { dist: "uniform", min: promptMin, max: promptMax },
      max_tokens: { dist: "uniform", min: Math.ceil(d.maxTokens / 2), max: d.maxTokens },
      shared_prefix: {
        groups: d.prefixGroups,
        // A prompt shorter than the prefix is the prefix's first tokens either way; the loader
        // takes no prefix longer than the longest prompt.
        tokens: Math.min(d.prefixTokens, promptMax),
        probability: d.prefixProbability,
      },
    },
  };
}

function underPressure(d: ClusterDraw): ClusterDraw {
  return {
    ...d,
    decode: d.decode.map((i) => ({
      ...i,
      spareBlocks: Math.min(i.spareBlocks, 2),
      maxNumSeqs: Math.max(i.maxNumSeqs, 8),
    })),
    ratePerS: Math.max(d.ratePerS, 500),
    numRequests: Math.max(d.numRequests, 8),
    promptMin: Math.min(d.promptMin, 24),
    promptSpan: Math.min(d.promptSpan, 24),
    maxTokens: Math.max(d.maxTokens, 120),
  };
}
